"""`POST /v1/runs/{id}/writeback/mlflow`: the verdict into the user's MLflow run."""

from fastapi import APIRouter, Depends, Request

from app.deps import SessionDep, SettingsDep, visible_run
from app.system.openapi import errors
from app.writeback import service
from app.writeback.schemas import MlflowTarget, WriteBackOut

router = APIRouter(prefix="/runs", tags=["write-back"], dependencies=[Depends(visible_run)])


@router.post(
    "/{run_id}/writeback/mlflow",
    summary="Write the diagnosis into an MLflow run (tags and artifacts)",
    responses=errors(400, 404, 502),
)
def write_back_mlflow(
    run_id: str, body: MlflowTarget, session: SessionDep, settings: SettingsDep, request: Request
) -> WriteBackOut:
    """Tags `lossgap.verdict`, `lossgap.summary`, `lossgap.causes`, `lossgap.confidence.<cause>`
    and `lossgap.run`; artifacts `lossgap/diagnosis.json` and `lossgap/curves.png` when the
    tracking server serves the run's artifacts."""
    return service.to_mlflow(session, settings, run_id, body, str(request.base_url))
