"""Response bodies of the artifacts API (`api.md` §5)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

ArtifactKind = Literal["model", "data"]


class ArtifactOut(BaseModel):
    id: str
    run_id: str
    kind: ArtifactKind
    filename: str
    size_bytes: int
    sha256: str
    meta: dict[str, Any] | None
    created_at: datetime
