"""Artifacts in an S3 bucket (AWS, MinIO, moto…), shared by an API and workers on other machines.

Uploads stream through boto3's managed transfer (multipart above a threshold), so a 2 GiB model is
never held in memory. Fetches download to a temporary file next to the destination and rename it
into place, so a reader never sees half an object. Transient failures are retried by botocore's
standard retry mode; what is left is raised as a `StorageError` that says what to check.
"""

import math
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from app.config import Settings
from app.storage.base import StorageError

MiB = 1024 * 1024
MIN_PART = 8 * MiB
MAX_PARTS = 9_000  # below S3's limit of 10,000 parts per upload, with room to spare
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}

_BotoErrors = (BotoCoreError, ClientError, Boto3Error)


class S3Store:
    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Store":
        url = settings.artifact_store_url or ""
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(
                f"LOSSGAP_ARTIFACT_STORE_URL={url!r} names no bucket: use s3://bucket[/prefix]."
            )
        config = Config(
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=10,
            read_timeout=60,
            # S3-compatible servers are usually addressed by host name or IP, where
            # `bucket.host` does not resolve; path-style works on all of them.
            s3={"addressing_style": "path"} if settings.s3_endpoint_url else None,
        )
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            config=config,
        )
        return cls(bucket, prefix, client)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _error(self, action: str, key: str, exc: Exception) -> StorageError:
        where = self._where(key)
        endpoint = self.client.meta.endpoint_url
        if isinstance(exc, NoCredentialsError):
            hint = (
                "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile"
            )
        elif isinstance(exc, EndpointConnectionError):
            hint = f"cannot connect to {endpoint}: is LOSSGAP_S3_ENDPOINT_URL right and reachable?"
        elif isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "?"))
            if code == "NoSuchBucket":
                hint = f"bucket {self.bucket!r} does not exist at {endpoint}"
            elif code in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                hint = f"access denied ({code}): check the AWS credentials and their permissions"
            else:
                hint = f"{code}: {error.get('Message', exc)}"
        else:
            hint = (
                f"{exc} (is LOSSGAP_S3_ENDPOINT_URL={endpoint} reachable, are AWS credentials set?)"
            )
        return StorageError(f"could not {action} {where}: {hint}")

    def put(self, key: str, source: BinaryIO, size: int) -> None:
        part = max(MIN_PART, math.ceil(size / MAX_PARTS))
        transfer = TransferConfig(multipart_threshold=MIN_PART, multipart_chunksize=part)
        try:
            self.client.upload_fileobj(source, self.bucket, self._key(key), Config=transfer)
        except _BotoErrors as exc:
            raise self._error("upload", key, exc) from exc

    def fetch(self, key: str, destination: Path) -> None:
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".download-")
        os.close(fd)
        try:
            self.client.download_file(self.bucket, self._key(key), tmp)
            os.replace(tmp, destination)
        except _BotoErrors as exc:
            Path(tmp).unlink(missing_ok=True)
            if _is_missing(exc):
                raise StorageError(f"artifact {key!r} is missing from {self._where(key)}") from exc
            raise self._error("download", key, exc) from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except _BotoErrors as exc:
            raise self._error("delete", key, exc) from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except _BotoErrors as exc:
            if _is_missing(exc):
                return False
            raise self._error("look up", key, exc) from exc
        return True


def _is_missing(exc: Exception) -> bool:
    return (
        isinstance(exc, ClientError)
        and str(exc.response.get("Error", {}).get("Code")) in MISSING_CODES
    )
