"""Request and response bodies of the runs API (`api.md` §1, §2 and the run listing)."""

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    InstanceOf,
    Strict,
    Tag,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.runs import text
from app.runs.streamed import StreamedSteps

# A reported value: a JSON number (NaN and ±Infinity accepted: they are evidence) or null.
Number = Annotated[float, Strict()] | None
Task = Literal["classification", "regression", "other"]

_STEP_ROW_SCHEMA = {
    "type": "object",
    "description": "One training step: `step` (whole number), optional fractional `epoch`, "
    "`train_loss` (and/or `val_loss`); every other numeric key is a metric.",
    "properties": {
        "step": {"type": "integer", "minimum": 0},
        "epoch": {"type": "number"},
        "train_loss": {"type": ["number", "null"]},
        "val_loss": {"type": ["number", "null"]},
    },
    "required": ["step"],
    "additionalProperties": {"type": ["number", "null"]},
    "example": {"step": 1, "epoch": 0.022, "train_loss": 2.31},
}
# Step rows are validated as plain dicts of numbers (fast for millions of rows) and checked
# column-wise in `app.runs.steps`; the schema above documents their shape.
StepRow = Annotated[dict[str, Number], WithJsonSchema(_STEP_ROW_SCHEMA)]
# The same steps as one array per key: far cheaper to send and parse for large histories.
StepColumns = Annotated[
    dict[str, list[Number]],
    WithJsonSchema(
        {
            "type": "object",
            "description": "Steps as columns: `step` and `train_loss` (and/or `val_loss`) "
            "arrays of equal length, plus any metric arrays; read back as rows.",
            "additionalProperties": {"type": "array", "items": {"type": ["number", "null"]}},
            "example": {
                "step": [1, 2, 3],
                "epoch": [0.01, 0.02, 0.03],
                "train_loss": [2.3, 2.2, 2.2],
            },
        }
    ),
]
_STEP_ROW: TypeAdapter[dict[str, float | None]] = TypeAdapter(StepRow)


def _checked_stream(steps: StreamedSteps) -> StreamedSteps:
    """Rows the body reader already turned into columns (`app.runs.streamed`). Its first
    irregular row is validated here, so a wrong type is reported at its index as if every row
    had been validated; a row of valid types fails later, in the column checks."""
    if steps.bad is not None:
        try:
            _STEP_ROW.validate_python(steps.bad.row)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(
                exc.title,
                [
                    InitErrorDetails(
                        type=PydanticCustomError(error["type"], error["msg"]),
                        loc=(steps.bad.index, *error["loc"]),
                        input=error["input"],
                    )
                    for error in exc.errors()
                ],
            ) from None
    return steps


def _steps_form(value: object) -> str:
    if isinstance(value, StreamedSteps):
        return "streamed"
    return "columns" if isinstance(value, dict) else "rows"


# Rows or columns, told apart by the JSON type; the tag names appear in error locations and
# `app.errors.field_path` leaves them out. Rows arrive as `StreamedSteps` from the runs routes.
Steps = Annotated[
    Annotated[list[StepRow], Tag("rows")]
    | Annotated[StepColumns, Tag("columns")]
    | Annotated[
        SkipJsonSchema[InstanceOf[StreamedSteps]],
        AfterValidator(_checked_stream),
        Tag("streamed"),
    ],
    Discriminator(_steps_form),
]


def step_count(steps: Steps) -> int:
    """Rows in any form (the columnar form's length is that of its `step` array)."""
    if isinstance(steps, StreamedSteps):
        return steps.rows
    return len(steps.get("step", [])) if isinstance(steps, dict) else len(steps)


class EpochRow(BaseModel):
    """One epoch: `epoch` and at least one of `train_loss`, `val_loss`; other keys are metrics."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {"epoch": 1, "train_loss": 1.93, "val_loss": 1.21, "val_accuracy": 0.72}
        },
    )
    __pydantic_extra__: dict[str, Number] = Field(init=False)

    epoch: Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
    train_loss: Number = None
    val_loss: Number = None

    @model_validator(mode="after")
    def _has_a_loss(self) -> "EpochRow":
        for key in self.__pydantic_extra__ or {}:
            text.checked(key)
        given = {"train_loss", "val_loss"} & self.model_fields_set
        if not given:
            raise ValueError("each epoch row needs `train_loss` or `val_loss`")
        # A loss sent as null is a loss that was not a number (api.md §1: evidence of
        # numerical instability, as NaN is); an absent key is no loss at all.
        for name in given:
            if getattr(self, name) is None:
                setattr(self, name, math.nan)
        return self

    @property
    def metrics(self) -> dict[str, float | None]:
        return dict(self.__pydantic_extra__ or {})


RUN_EXAMPLE: dict[str, Any] = {
    "name": "mlp-digits-dropout",
    "task": "classification",
    "config": {
        "dropout": 0.5,
        "batch_size": 32,
        "learning_rate": 0.001,
        "train_size": 1437,
        "val_size": 360,
    },
    "epochs": [
        {
            "epoch": 1,
            "train_loss": 1.93,
            "val_loss": 1.21,
            "train_accuracy": 0.41,
            "val_accuracy": 0.72,
        },
        {"epoch": 2, "train_loss": 1.10, "val_loss": 0.84},
    ],
    "steps": [{"step": 1, "epoch": 0.022, "train_loss": 2.31}],
}


ProjectName = Annotated[
    str,
    Field(min_length=1, max_length=200, description="Runs are grouped, and keys scoped, by it."),
    AfterValidator(text.checked),
]


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": RUN_EXAMPLE})

    id: Annotated[
        str | None,
        Field(
            pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            description="Optional client-chosen run id (a lowercase UUID). Sending the same "
            "create again appends its rows to that run instead of making a second one, so a "
            "client can retry a create whose answer it never received.",
        ),
    ] = None
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(text.checked)] = (
        "unnamed"
    )
    project: ProjectName | None = None
    task: Task = "other"
    config: dict[str, Any] = Field(default_factory=dict)
    epochs: Annotated[list[EpochRow], Field(min_length=1)]
    steps: Steps = Field(default_factory=list)

    @field_validator("config")
    @classmethod
    def _storable_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        text.check_tree(config)
        return config


APPEND_EXAMPLE: JsonDict = {
    "epochs": [{"epoch": 3, "train_loss": 0.91, "val_loss": 0.80}],
    "steps": [{"step": 120, "epoch": 2.6, "train_loss": 0.95}],
}
RUN_OUT_EXAMPLE: JsonDict = {
    "id": "f98334cd-9f16-4f8f-8e0d-2dcaae4acbe4",
    "name": "mlp-digits-dropout",
    "project": None,
    "task": "classification",
    "config": {"dropout": 0.5, "batch_size": 32},
    "epoch_count": 2,
    "step_count": 0,
    "data_version": 1,
    "created_at": "2026-12-01T17:23:51.437793Z",
    "updated_at": "2026-12-01T17:23:51.437793Z",
}


class HistoryAppend(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [APPEND_EXAMPLE]})

    epochs: list[EpochRow] = Field(default_factory=list)
    steps: Steps = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> "HistoryAppend":
        if not self.epochs and not step_count(self.steps):
            raise ValueError("send at least one row in `epochs` or `steps`")
        return self


class RunOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [RUN_OUT_EXAMPLE]})

    id: str
    name: str
    project: str | None
    task: Task
    config: dict[str, Any]
    epoch_count: int
    step_count: int
    data_version: int = Field(description="Increases with every change to the history.")
    created_at: datetime
    updated_at: datetime


class RunHistoryOut(RunOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **RUN_OUT_EXAMPLE,
                    "epochs": [
                        {"epoch": 1, "train_loss": 1.93, "val_loss": 1.21, "val_accuracy": 0.72},
                        {"epoch": 2, "train_loss": 1.10, "val_loss": 0.84},
                    ],
                    "steps": [],
                }
            ]
        }
    )

    epochs: list[dict[str, float]]
    steps: list[dict[str, float]] | None = Field(
        description="Per-step rows; null when requested with `include_steps=false`."
    )


class AppendOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "f98334cd-9f16-4f8f-8e0d-2dcaae4acbe4",
                    "epochs_written": 1,
                    "steps_written": 1,
                    "epoch_count": 3,
                    "step_count": 1,
                    "data_version": 2,
                }
            ]
        }
    )

    id: str
    epochs_written: int
    steps_written: int
    epoch_count: int
    step_count: int
    data_version: int


class RunPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [RUN_OUT_EXAMPLE], "total": 1, "limit": 50, "offset": 0}]
        }
    )

    items: list[RunOut]
    total: int
    limit: int
    offset: int
