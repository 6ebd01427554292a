"""Start a re-evaluation of the run's uploaded model on its uploaded data."""

from fastapi import APIRouter, Depends, status

from app.deps import QueueDep, SessionDep, SettingsDep, visible_run
from app.reevaluations import service
from app.reevaluations.schemas import ReevaluationCreate, ReevaluationOut
from app.system.openapi import errors, started_job

router = APIRouter(prefix="/runs", tags=["re-evaluation"], dependencies=[Depends(visible_run)])


@router.post(
    "/{run_id}/reevaluations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a re-evaluation of the latest model and data of the run",
    responses={**errors(400, 404, 409), **started_job("The job, queued.")},
)
def start_reevaluation(
    run_id: str,
    body: ReevaluationCreate,
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
) -> ReevaluationOut:
    """Poll `GET /v1/jobs/{job_id}`; the run's diagnosis is `pending` until the job ends."""
    job = service.start(session, settings, queue, run_id, body)
    return ReevaluationOut(
        job_id=job.id,
        status=job.status,
        run_id=run_id,
        model_artifact=job.params["model_artifact"],
        data_artifact=job.params["data_artifact"],
    )
