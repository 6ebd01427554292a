"""The diagnosis body of `api.md` §4."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict


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
        default=None,
        description="Probability that none of `explained_by` is at work; null for a symptom "
        "no catalog cause produces.",
    )
    settle: str = Field(default="", description="What measurement would settle it.")


EXAMPLE: JsonDict = {
    "run_id": "f98334cd-9f16-4f8f-8e0d-2dcaae4acbe4",
    "status": "complete",
    "engine_version": "0.6.0+fit-8616f96adb43+6759bbff",
    "summary": "Validation loss ends 0.08 below training loss (0.39 vs 0.47) at epoch 11. Most "
    "likely: regularization active only during training (81%), not a problem.",
    "causes": [
        {
            "id": "regularization_train_only",
            "kind": "benign",
            "confidence": 0.808,
            "title": "Regularization active only during training",
            "explanation": "Dropout, label smoothing, mixup or an L2 term in the reported loss "
            "raise the training loss but are off when validating, so validation loss sits below "
            "it by a roughly constant amount. In this run: late gap -0.092 (validation minus "
            "training) vs -0.16 mid-run: stable; config keys used: batch_size, dropout.",
            "evidence": [
                {
                    "check": "offset",
                    "detail": "late gap -0.092 (validation minus training) vs -0.16 mid-run: "
                    "stable",
                    "value": -0.092,
                }
            ],
            "actions": [
                "Nothing to fix: compare train and validation loss both in eval mode to see the "
                "true gap (re-evaluate the checkpoint on the training set with model.eval())."
            ],
        }
    ],
    "checks": [
        {
            "id": "gap",
            "status": "flagged",
            "detail": "over the last 3 epochs validation loss is 0.092 below training loss; its "
            "standard error is 0.0038, so the gap is 23.9 standard errors",
            "statistic": -0.092,
        }
    ],
    "gap": {"last_epoch": 11.0, "train_loss": 0.47, "val_loss": 0.39, "val_minus_train": -0.08},
    "symptoms": [
        {
            "id": "val_below_train",
            "present": True,
            "value": -0.1232,
            "unit": "gap / loss level",
            "detail": "over the last 3 epochs validation loss is 0.092 below training loss (12% of "
            "the loss level, 23.9 standard errors)",
            "explained_by": ["regularization_train_only", "measurement_lag"],
            "unexplained": 0.04,
            "settle": "",
        }
    ],
}


class DiagnosisOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

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
