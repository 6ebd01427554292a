"""`POST /v1/imports`: a training tool's log file in, a stored run out (`api.md` §3)."""

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import SessionDep, SettingsDep
from app.imports import service
from app.imports.detect import BY_NAME

router = APIRouter(prefix="/imports", tags=["imports"])


class ImportOut(BaseModel):
    id: str
    format: str
    name: str
    epoch_count: int
    step_count: int
    mapping: dict[str, str]
    notes: list[str]


class MlflowImport(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"run": "http://mlflow:5000/#/experiments/1/runs/a9d28de43d07441785240"}
        },
    )
    run: str = Field(
        description="The run's address in the MLflow UI, or `runs:/<id>` or the id with "
        "`tracking_uri`."
    )
    tracking_uri: str | None = Field(None, description="e.g. `http://mlflow:5000`.")
    name: str | None = Field(None, description="Run name; default: the MLflow run's name.")
    config: dict[str, Any] = Field(default_factory=dict, description="Merged over params.")
    mapping: dict[str, str] = Field(default_factory=dict, description="Override series roles.")
    token: str | None = Field(
        None, description="Bearer token for the tracking server; used once, never stored."
    )


def _out(imported: service.Imported, response: Response) -> ImportOut:
    run = imported.counts.run
    response.headers["Location"] = f"/v1/runs/{run.id}"
    return ImportOut(
        id=run.id,
        format=imported.parsed.format,
        name=run.name,
        epoch_count=imported.counts.epoch_count,
        step_count=imported.counts.step_count,
        mapping=imported.parsed.mapping,
        notes=imported.parsed.notes,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Import a training tool's log file")
def import_file(
    file: Annotated[UploadFile, File(description="The log file.")],
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    format: Annotated[
        str | None, Form(description=f"One of: {', '.join(BY_NAME)}; detected when absent.")
    ] = None,
    name: Annotated[str | None, Form(description="Run name; default: the file name.")] = None,
    config: Annotated[str | None, Form(description="The run's config, as a JSON object.")] = None,
    mapping: Annotated[
        str | None,
        Form(description='Override series roles, e.g. {"val_loss": "val/box_loss"}.'),
    ] = None,
) -> ImportOut:
    imported = service.import_file(
        session,
        settings,
        filename=file.filename or "upload",
        content=file.file.read(),
        fmt=format,
        name=name,
        config=config,
        mapping=mapping,
    )
    return _out(imported, response)


@router.post(
    "/mlflow",
    status_code=status.HTTP_201_CREATED,
    summary="Import a run from an MLflow tracking server",
)
def import_mlflow(
    body: MlflowImport, session: SessionDep, settings: SettingsDep, response: Response
) -> ImportOut:
    """The server fetches the run's metric histories and params over MLflow's REST API."""
    imported = service.import_mlflow(session, settings, **body.model_dump())
    return _out(imported, response)
