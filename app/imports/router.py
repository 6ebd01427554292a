"""`POST /v1/imports`: a training tool's log file in, a stored run out (`api.md` §3)."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from pydantic import BaseModel

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
