"""Turn a re-evaluation request into a queued job over the run's latest model and data.

Asking again while an identical job is queued or running returns that job: a retried request
never queues the same work twice.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.artifacts import service as artifacts
from app.config import Settings
from app.errors import Conflict
from app.jobs import service as jobs
from app.jobs.queue import JobQueue
from app.models import Job, JobStatus
from app.reevaluations.params import ReevaluationParams
from app.reevaluations.schemas import ReevaluationCreate
from app.runs import service as runs

KIND = "reevaluate"


def start(
    session: Session, settings: Settings, queue: JobQueue, run_id: str, body: ReevaluationCreate
) -> Job:
    run = runs.find_run(session, run_id)
    model = artifacts.latest(session, run_id, "model")
    data = artifacts.latest(session, run_id, "data")
    missing = [kind for kind, a in (("model", model), ("data", data)) if a is None]
    if missing or model is None or data is None:
        raise Conflict(
            f"Run {run_id} has no {' and no '.join(missing)} artifact yet: upload them with "
            "POST /v1/runs/{id}/artifacts (kind=model: a TorchScript file; kind=data: an .npz "
            "or safetensors file) before starting a re-evaluation."
        )
    configured = run.config.get("batch_size")
    batch_size = body.batch_size or (
        configured if isinstance(configured, int) and configured > 0 else None
    )
    params = ReevaluationParams(
        model_artifact=model.id,
        data_artifact=data.id,
        loss=body.loss,
        label_smoothing=body.label_smoothing,
        batch_size=batch_size or settings.reeval_batch_size,
        batch_size_known=batch_size is not None,
        device=body.device,
    ).model_dump(mode="json")
    for job in session.scalars(
        select(Job).where(
            Job.run_id == run_id,
            Job.kind == KIND,
            Job.status.in_([JobStatus.queued, JobStatus.running]),
        )
    ):
        if job.params == params:
            return job
    return jobs.create_job(
        session,
        queue,
        run_id=run_id,
        kind=KIND,
        params=params,
        max_attempts=settings.job_max_attempts,
    )
