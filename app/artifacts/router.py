"""Upload a checkpoint or data set for re-evaluation (multipart), and list a run's uploads."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from app.artifacts import service
from app.artifacts.schemas import ArtifactKind, ArtifactOut
from app.deps import SessionDep, SettingsDep, StoreDep, visible_run
from app.system.openapi import errors

router = APIRouter(prefix="/runs", tags=["re-evaluation"], dependencies=[Depends(visible_run)])


@router.post(
    "/{run_id}/artifacts",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a TorchScript model or an .npz/safetensors data file",
    responses=errors(404, 413),
)
def upload_artifact(
    run_id: str,
    kind: Annotated[ArtifactKind, Form(description="`model` or `data`.", examples=["model"])],
    file: Annotated[UploadFile, File(description="The file itself.")],
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
) -> ArtifactOut:
    """`model`: `torch.jit.save` of a scripted or traced module. `data`: `x_train`, `y_train`,
    `x_val`, `y_val` (optional `x_train_raw`), as `.npz` or safetensors. Checked before it is
    stored: shapes, dtypes, label range, no pickles, no decompression bombs."""
    artifact = service.upload_artifact(
        session, settings, store, run_id, kind, file.filename or kind, file.file
    )
    return ArtifactOut.model_validate(artifact, from_attributes=True)


@router.get("/{run_id}/artifacts", summary="List a run's uploaded artifacts", responses=errors(404))
def list_artifacts(run_id: str, session: SessionDep) -> list[ArtifactOut]:
    return [
        ArtifactOut.model_validate(a, from_attributes=True)
        for a in service.list_artifacts(session, run_id)
    ]
