"""Artifacts as files under a directory: the embedded default, or a shared volume.

Writes go to a temporary file in the same directory and are renamed into place, so a reader never
sees half an object.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from app.storage.base import StorageError

CHUNK = 1024 * 1024


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"artifact key {key!r} escapes the store")
        return path

    def put(self, key: str, source: BinaryIO, size: int) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def fetch(self, key: str, destination: Path) -> None:
        path = self._path(key)
        if not path.exists():
            raise StorageError(f"artifact {key!r} is missing from {self.root}")
        shutil.copyfile(path, destination)

    def local_path(self, key: str) -> Path:
        """The file itself, so a worker on this machine need not copy it."""
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()
