"""Response bodies of the artifacts API (`api.md` §5)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.config import JsonDict

ArtifactKind = Literal["model", "data"]


EXAMPLE: JsonDict = {
    "id": "ce2b7e61-5d5c-42e0-b948-7af0779fd683",
    "run_id": "f98334cd-9f16-4f8f-8e0d-2dcaae4acbe4",
    "kind": "data",
    "filename": "data.npz",
    "size_bytes": 42816,
    "sha256": "ed0e23d726c8657e473b1a6b9ddf90314714f38b4aefa67ac61002fa333dcd33",
    "meta": {
        "format": "npz",
        "arrays": {
            "x_train": {"shape": [500, 16], "dtype": "<f4"},
            "y_train": {"shape": [500], "dtype": "<i8"},
            "x_val": {"shape": [200, 16], "dtype": "<f4"},
            "y_val": {"shape": [200], "dtype": "<i8"},
        },
        "task": "classification",
        "num_classes": 4,
        "ignored": [],
    },
    "created_at": "2026-12-01T17:23:53.278291Z",
}


class ArtifactOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    id: str
    run_id: str
    kind: ArtifactKind
    filename: str
    size_bytes: int
    sha256: str
    meta: dict[str, Any] | None
    created_at: datetime
