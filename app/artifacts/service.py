"""Receive an upload: copy it to a scratch file (hashing, counting), check it, then store it.

Nothing reaches the store or the database before the file passed its checks, so a refused upload
leaves no trace.
"""

import hashlib
import logging
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.artifacts.inspect import Limits, inspect_data, inspect_model
from app.config import Settings
from app.errors import LimitExceeded
from app.models import Artifact
from app.runs import service as runs
from app.storage import ArtifactStore, StorageError

log = logging.getLogger("lossgap.artifacts")

CHUNK = 1024 * 1024


def upload_artifact(
    session: Session,
    settings: Settings,
    store: ArtifactStore,
    run_id: str,
    kind: str,
    filename: str,
    source: BinaryIO,
) -> Artifact:
    run = runs.find_run(session, run_id)
    limit = settings.max_model_bytes if kind == "model" else settings.max_data_bytes
    limits = Limits(limit, settings.max_data_unpacked_bytes, settings.max_compression_ratio)
    scratch = settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=scratch, prefix="upload-") as tmp:
        size, digest = _copy(source, cast(BinaryIO, tmp), limit, kind)
        path = Path(tmp.name)
        if kind == "model":
            meta = inspect_model(path, size, limits)
        else:
            meta = inspect_data(
                path, size, limits, run.task, _int_or_none(run.config.get("num_classes"))
            ).as_dict()
        artifact = Artifact(
            id=str(uuid.uuid4()),
            run_id=run_id,
            kind=kind,
            filename=Path(filename or kind).name[:255],
            size_bytes=size,
            sha256=digest,
            storage_key=f"runs/{run_id}/{kind}-{uuid.uuid4().hex}",
            meta=meta,
        )
        tmp.seek(0)
        store.put(artifact.storage_key, cast(BinaryIO, tmp), size)
    session.add(artifact)
    session.flush()
    return artifact


def list_artifacts(session: Session, run_id: str) -> list[Artifact]:
    runs.find_run(session, run_id)
    return list(
        session.scalars(
            select(Artifact).where(Artifact.run_id == run_id).order_by(Artifact.created_at)
        )
    )


def latest(session: Session, run_id: str, kind: str) -> Artifact | None:
    return session.scalars(
        select(Artifact)
        .where(Artifact.run_id == run_id, Artifact.kind == kind)
        .order_by(Artifact.created_at.desc())
        .limit(1)
    ).first()


def delete_run_with_files(session: Session, store: ArtifactStore, run_id: str) -> None:
    """Delete the run; its stored files go once the deletion is committed (never before: a
    rolled-back delete must not leave rows pointing at missing files)."""
    keys = list(session.scalars(select(Artifact.storage_key).where(Artifact.run_id == run_id)))
    runs.delete_run(session, run_id)

    def remove() -> None:
        for key in keys:
            try:
                store.delete(key)
            except StorageError:
                log.warning("could not delete artifact %s of deleted run %s", key, run_id)

    session.info.setdefault("after_commit", []).append(remove)


def _copy(source: BinaryIO, target: BinaryIO, limit: int, kind: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise LimitExceeded(
                f"The {kind} file is over this server's limit of {limit} bytes "
                f"(LOSSGAP_MAX_{kind.upper()}_BYTES)."
            )
        digest.update(chunk)
        target.write(chunk)
    target.flush()
    return size, digest.hexdigest()


def _int_or_none(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
