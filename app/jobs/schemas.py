"""Response body of `GET /v1/jobs/{id}` (`api.md` §5)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class JobOut(BaseModel):
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
