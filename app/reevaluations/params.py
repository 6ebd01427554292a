"""The `reevaluate` job's parameters: one typed record the API writes and the worker reads.

The jobs table stores them as JSON (`Job.params`); both ends go through this model, so a field
renamed on one side fails validation on the other instead of surfacing as a KeyError in a worker.
"""

from pydantic import BaseModel, ConfigDict, Field

from app.reevaluations.schemas import LossName


class ReevaluationParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model_artifact: str
    data_artifact: str
    loss: LossName
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    batch_size: int = Field(ge=1)
    batch_size_known: bool = Field(
        description="False when neither the request nor the run's config gave a batch size "
        "and the worker's default is used (the report says so)."
    )
    device: str
