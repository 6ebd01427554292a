"""Write a stored run's diagnosis back to the tracker the user lives in."""

from sqlalchemy.orm import Session

from app.config import Settings
from app.diagnoses import service as diagnoses
from app.errors import InvalidInput, UpstreamFailed
from app.imports import mlflow_server
from app.imports.service import mlflow_reference
from app.pages.downsample import thinned_steps
from app.runs import service as runs
from app.writeback import mlflow
from app.writeback.schemas import MlflowTarget, WriteBackOut

PENDING_NOTE = (
    "the diagnosis is pending a re-evaluation: these are the history's causes; write back "
    "again when the job has finished"
)


def to_mlflow(
    session: Session, settings: Settings, run_id: str, target: MlflowTarget, base_url: str
) -> WriteBackOut:
    diagnosis = diagnoses.get_diagnosis(session, run_id)
    epochs = [runs.epoch_row(record) for record in runs.read_epochs(session, run_id)]
    steps = thinned_steps(runs.read_steps(session, run_id))
    ref = mlflow_reference(settings, target.run, target.tracking_uri)
    try:
        written = mlflow.write_back(
            ref,
            diagnosis,
            epochs,
            run_url=f"{base_url.rstrip('/')}/runs/{run_id}",
            timeout=settings.mlflow_timeout_seconds,
            auth={"token": target.token} if target.token else {},
            steps=steps,
        )
    except mlflow_server.UpstreamError as exc:
        raise (InvalidInput if exc.user_error else UpstreamFailed)(str(exc)) from exc
    notes = [*written.notes, *([PENDING_NOTE] if diagnosis.get("status") == "pending" else [])]
    return WriteBackOut(
        tracker="mlflow",
        run=f"{ref.tracking_uri}/#/experiments/-/runs/{ref.run_id}",
        tags=written.tags,
        artifacts=written.artifacts,
        notes=notes,
    )
