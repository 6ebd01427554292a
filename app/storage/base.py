"""The artifact store protocol and the one place that picks an implementation from settings.

The API streams a checked upload into the store; workers (maybe on other machines) fetch it to a
local file before loading it. Keys are opaque strings chosen by the caller (`runs/<id>/<uuid>`).
"""

from pathlib import Path
from typing import BinaryIO, Protocol

from app.config import Settings


class StorageError(RuntimeError):
    """The store could not be reached or refused the operation."""


class ArtifactStore(Protocol):
    def put(self, key: str, source: BinaryIO, size: int) -> None:
        """Store `size` bytes read from `source` (positioned at its start) under `key`."""

    def fetch(self, key: str, destination: Path) -> None:
        """Copy the object to a local file (created or replaced)."""

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""

    def exists(self, key: str) -> bool: ...


def open_store(settings: Settings) -> ArtifactStore:
    url = settings.artifact_store_url
    if url and url.startswith("s3://"):
        from app.storage.s3 import S3Store

        return S3Store.from_settings(settings)
    from app.storage.local import LocalStore

    if url and url.startswith("file://"):
        return LocalStore(Path(url.removeprefix("file://")))
    if url:
        raise ValueError(
            f"LOSSGAP_ARTIFACT_STORE_URL={url!r} is not a store this service knows: use "
            "s3://bucket[/prefix] or file:///path (or leave it unset for DATA_DIR/artifacts)."
        )
    return LocalStore(settings.data_dir / "artifacts")
