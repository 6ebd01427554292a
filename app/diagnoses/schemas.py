"""The diagnosis body of `api.md` §4."""

from typing import Literal

from pydantic import BaseModel, Field


class EvidenceOut(BaseModel):
    check: str
    detail: str
    value: float | None = None


class CauseOut(BaseModel):
    id: str = Field(description="A cause id from the catalog (causes.md).")
    kind: Literal["benign", "problem"]
    confidence: float = Field(ge=0, le=1, description="Calibrated probability the cause is real.")
    title: str
    explanation: str
    evidence: list[EvidenceOut]
    actions: list[str]


class CheckOut(BaseModel):
    id: str
    status: Literal["flagged", "passed", "skipped"]
    detail: str
    statistic: float | None = None


class SymptomOut(BaseModel):
    id: str = Field(description="What was measured, e.g. val_below_train, val_rises_after_min.")
    present: bool = Field(description="Clear against the noise and large enough to matter.")
    value: float | None = Field(description="The effect size, in `unit`.")
    unit: str
    detail: str
    explained_by: list[str] = Field(
        default=[], description="Causes that can produce it, most likely first (when present)."
    )
    unexplained: float | None = Field(
        default=None, description="Probability that none of `explained_by` is at work."
    )
    settle: str = Field(default="", description="What measurement would settle it.")


class DiagnosisOut(BaseModel):
    run_id: str
    status: Literal["complete", "pending"]
    engine_version: str
    summary: str
    causes: list[CauseOut]
    checks: list[CheckOut]
    gap: dict[str, float | None] = Field(description="The measured gap at the last epoch.")
    symptoms: list[SymptomOut] = Field(
        default=[], description="What the curves (and a re-evaluation) show, before any cause."
    )
