"""`POST /v1/imports`: a training tool's log file in, a stored run out (`api.md` §3)."""

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import AccessDep, SessionDep, SettingsDep
from app.imports import service
from app.imports.detect import BY_NAME
from app.runs.schemas import ProjectName
from app.system.openapi import created_run, errors

router = APIRouter(prefix="/imports", tags=["imports"])


class ImportOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0e77d296-b213-4255-936c-5b8967909ecb",
                    "format": "lightning_csv",
                    "name": "metrics.csv",
                    "epoch_count": 35,
                    "step_count": 55,
                    "mapping": {"train_loss": "train_loss_epoch", "val_loss": "valid_loss"},
                    "notes": ["epochs are numbered from 0 in the file; stored from 1"],
                }
            ]
        }
    )

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
    project: ProjectName | None = Field(
        None, description="Store the run under this project (a project key: one of its own)."
    )
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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Import a training tool's log file",
    responses={**errors(403, 413), **created_run("The run the file became.")},
)
def import_file(
    file: Annotated[UploadFile, File(description="The log file.")],
    session: SessionDep,
    settings: SettingsDep,
    access: AccessDep,
    response: Response,
    format: Annotated[
        str | None,
        Form(
            description=f"One of: {', '.join(BY_NAME)}; detected when absent.",
            examples=["lightning_csv"],
        ),
    ] = None,
    name: Annotated[
        str | None, Form(description="Run name; default: the file name.", examples=["resnet18"])
    ] = None,
    project: Annotated[
        str | None,
        Form(
            description="Store the run under this project (a project key: one of its own).",
            examples=["vision"],
        ),
    ] = None,
    config: Annotated[
        str | None,
        Form(
            description="The run's config, as a JSON object.",
            examples=['{"dropout": 0.3, "batch_size": 64}'],
        ),
    ] = None,
    mapping: Annotated[
        str | None,
        Form(
            description='Override series roles, e.g. {"val_loss": "val/box_loss"}.',
            examples=['{"train_loss": "trn", "val_loss": "vl"}'],
        ),
    ] = None,
) -> ImportOut:
    imported = service.import_file(
        session,
        settings,
        access,
        filename=file.filename or "upload",
        content=file.file.read(settings.max_import_bytes + 1),
        fmt=format,
        name=name,
        project=project,
        config=config,
        mapping=mapping,
    )
    return _out(imported, response)


@router.post(
    "/mlflow",
    status_code=status.HTTP_201_CREATED,
    summary="Import a run from an MLflow tracking server",
    responses={**errors(400, 403, 502), **created_run("The run the MLflow run became.")},
)
def import_mlflow(
    body: MlflowImport,
    session: SessionDep,
    settings: SettingsDep,
    access: AccessDep,
    response: Response,
) -> ImportOut:
    """The server fetches the run's metric histories and params over MLflow's REST API."""
    imported = service.import_mlflow(session, settings, access, **body.model_dump())
    return _out(imported, response)
