"""The artifact stores, each driven through the `ArtifactStore` protocol.

The S3 store runs against moto's server mode: a real HTTP server on a local port, so boto3's
signing, multipart uploads and error responses are exercised as they would be against AWS or MinIO.
"""

import io
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.config import Settings
from app.storage.base import ArtifactStore, StorageError, open_store
from app.storage.local import LocalStore
from app.storage.s3 import S3Store

MiB = 1024 * 1024
PREFIX = "some/prefix"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **extra)  # type: ignore[call-arg]


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"lossgap-test-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return open_store(settings(tmp_path, artifact_store_url=None))
    request.getfixturevalue("aws_env")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("bucket")
    return open_store(
        settings(
            tmp_path,
            artifact_store_url=f"s3://{bucket}/{PREFIX}/",
            s3_endpoint_url=endpoint,
            s3_region="us-east-1",
        )
    )


def test_open_store_picks_the_implementation(store: ArtifactStore) -> None:
    assert isinstance(store, LocalStore | S3Store)


@pytest.mark.parametrize("size", [0, 3 * MiB + 17, 9 * MiB + 7])
def test_put_then_fetch_is_byte_identical(store: ArtifactStore, tmp_path: Path, size: int) -> None:
    payload = os.urandom(size)
    store.put("runs/1/model", io.BytesIO(payload), size)

    destination = tmp_path / "out" / "model.bin"
    destination.parent.mkdir()
    destination.write_bytes(b"stale")
    store.fetch("runs/1/model", destination)

    assert destination.read_bytes() == payload
    assert [p.name for p in destination.parent.iterdir()] == ["model.bin"]


def test_exists_and_delete(store: ArtifactStore) -> None:
    assert not store.exists("runs/2/data")
    store.put("runs/2/data", io.BytesIO(b"abc"), 3)
    assert store.exists("runs/2/data")

    store.delete("runs/2/data")
    assert not store.exists("runs/2/data")
    store.delete("runs/2/data")


def test_fetch_of_a_missing_key_raises(store: ArtifactStore, tmp_path: Path) -> None:
    destination = tmp_path / "missing.bin"
    with pytest.raises(StorageError, match="missing"):
        store.fetch("runs/3/nothing", destination)
    assert not destination.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".download-")]


def test_local_store_refuses_keys_that_escape(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "artifacts")
    for key in ("../outside", "runs/../../outside"):
        with pytest.raises(StorageError, match="escapes"):
            store.put(key, io.BytesIO(b"x"), 1)
        with pytest.raises(StorageError, match="escapes"):
            store.exists(key)
    assert not (tmp_path / "outside").exists()


@pytest.mark.usefixtures("aws_env")
def test_s3_keys_live_under_the_prefix(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    store = open_store(
        settings(
            tmp_path,
            artifact_store_url=f"s3://{bucket}/{PREFIX}",
            s3_endpoint_url=s3_endpoint,
            s3_region="us-east-1",
        )
    )
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == (bucket, PREFIX)
    store.put("runs/4/model", io.BytesIO(b"weights"), 7)

    listing = s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)
    assert [obj["Key"] for obj in listing["Contents"]] == [f"{PREFIX}/runs/4/model"]


@pytest.mark.usefixtures("aws_env")
def test_s3_without_a_prefix_uses_the_key_as_is(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    store = open_store(
        settings(tmp_path, artifact_store_url=f"s3://{bucket}", s3_endpoint_url=s3_endpoint)
    )
    store.put("runs/5/model", io.BytesIO(b"w"), 1)

    listing = s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)
    assert [obj["Key"] for obj in listing["Contents"]] == ["runs/5/model"]


def test_s3_url_without_a_bucket_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="names no bucket"):
        open_store(settings(tmp_path, artifact_store_url="s3://"))


@pytest.mark.usefixtures("aws_env")
def test_s3_missing_bucket_is_a_storage_error(s3_endpoint: str, tmp_path: Path) -> None:
    store = open_store(
        settings(
            tmp_path,
            artifact_store_url="s3://no-such-bucket-here",
            s3_endpoint_url=s3_endpoint,
        )
    )
    with pytest.raises(StorageError, match=r"no-such-bucket-here.*does not exist"):
        store.put("k", io.BytesIO(b"x"), 1)


@pytest.mark.usefixtures("aws_env")
def test_unreachable_endpoint_is_a_storage_error(tmp_path: Path) -> None:
    store = open_store(
        settings(
            tmp_path,
            artifact_store_url="s3://bucket/prefix",
            s3_endpoint_url="http://127.0.0.1:1",
            s3_region="us-east-1",
        )
    )
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"s3://bucket/prefix/k.*LOSSGAP_S3_ENDPOINT_URL"):
        store.put("k", io.BytesIO(b"x"), 1)
    with pytest.raises(StorageError, match="LOSSGAP_S3_ENDPOINT_URL"):
        store.fetch("k", tmp_path / "k")
    with pytest.raises(StorageError, match="LOSSGAP_S3_ENDPOINT_URL"):
        store.exists("k")
    with pytest.raises(StorageError, match="LOSSGAP_S3_ENDPOINT_URL"):
        store.delete("k")
    assert time.monotonic() - started < 30
    assert not (tmp_path / "k").exists()
