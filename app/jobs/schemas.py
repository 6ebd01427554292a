"""Response body of `GET /v1/jobs/{id}` (`api.md` §5)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "b584e093-f0bb-468f-8e3c-7194a0cc6fa8",
                    "run_id": "f98334cd-9f16-4f8f-8e0d-2dcaae4acbe4",
                    "kind": "reevaluate",
                    "status": "running",
                    "progress": 0.42,
                    "stage": "searching the training set for copies of validation samples",
                    "error": None,
                    "attempts": 1,
                    "params": {"loss": "cross_entropy", "label_smoothing": 0.0, "batch_size": 32},
                    "result": None,
                    "created_at": "2026-12-01T17:23:53.287577Z",
                    "started_at": "2026-12-01T17:23:53.412001Z",
                    "finished_at": None,
                }
            ]
        }
    )

    id: str
    run_id: str
    kind: str
    status: str = Field(description="queued | running | succeeded | failed")
    progress: float = Field(description="0 to 1, updated while the job runs.")
    stage: str | None = Field(
        None,
        description="What the job is doing now, e.g. `scoring the validation set in eval mode`; "
        "its last stage once it finished.",
    )
    error: str | None = Field(description="What went wrong and what to do, when it failed.")
    attempts: int
    params: dict[str, Any]
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
