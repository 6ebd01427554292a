"""Where artifact bytes live: a local directory by default, an S3-compatible bucket for teams."""

from app.storage.base import ArtifactStore, StorageError, open_store

__all__ = ["ArtifactStore", "StorageError", "open_store"]
