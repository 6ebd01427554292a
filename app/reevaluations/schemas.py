"""Request body of `POST /v1/runs/{id}/reevaluations` (`api.md` §5)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LossName = Literal["cross_entropy", "nll", "bce", "mse", "mae", "huber", "smooth_l1"]
LOSSES: tuple[str, ...] = LossName.__args__  # type: ignore[attr-defined]


class ReevaluationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"loss": "cross_entropy", "label_smoothing": 0.1, "batch_size": 32}]
        },
    )

    loss: LossName = Field(
        description="The training criterion: `cross_entropy` and `nll` (log-probabilities) take "
        "class ids; `bce` takes logits and 0/1 targets; `mse`, `mae`, `huber`, `smooth_l1` "
        "regression targets."
    )
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="As in training (cross entropy).")
    batch_size: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="The batch size the model was trained with (train-mode passes use it); "
        "default: the run's config.batch_size.",
    )
    device: str = Field(
        "auto",
        pattern=r"^(auto|cpu|cuda(:\d+)?)$",
        description="`auto` (CUDA when the worker has it), `cpu`, `cuda` or `cuda:N`.",
    )


class ReevaluationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job_id": "b584e093-f0bb-468f-8e3c-7194a0cc6fa8",
                    "status": "queued",
                    "run_id": "f98334cd-9f16-4f8f-8e0d-2dcaae4acbe4",
                    "model_artifact": "b32752f9-8178-476e-978d-cfe08cefdad1",
                    "data_artifact": "ce2b7e61-5d5c-42e0-b948-7af0779fd683",
                }
            ]
        }
    )

    job_id: str
    status: str
    run_id: str
    model_artifact: str
    data_artifact: str
