"""The `reevaluate` job: fetch the run's model and data, build the probe report, store it.

The report is upserted by job id in its own transaction, so a job re-run after its first worker
died replaces the report instead of adding a second one.
"""

import math
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.models import Artifact, Run
from app.probes import service as probes
from app.reevaluations.params import ReevaluationParams
from app.runs import service as runs
from app.storage import open_store
from app.storage.local import LocalStore
from workers.reevaluate import report as probe_report
from workers.reevaluate.errors import ReevaluationError
from workers.reevaluate.load import load_data, load_model, pick_device
from workers.runner import JobContext

LOADING = "loading the model and data"
STORING = "storing the report"
BUILD = 0.99  # the probe report's share of the job; storing it is the rest


def _last_reported(session: Any, run_id: str) -> tuple[float | None, float | None]:
    train = val = None
    for record in runs.read_epochs(session, run_id):
        row = runs.epoch_row(record)
        t, v = row.get("train_loss"), row.get("val_loss")
        if t is not None and v is not None and math.isfinite(t) and math.isfinite(v):
            train, val = t, v
    return train, val


def reevaluate(ctx: JobContext) -> dict[str, Any]:
    try:
        params = ReevaluationParams.model_validate(ctx.params)
    except ValidationError as exc:
        raise ReevaluationError(
            f"The job's parameters are not those of a re-evaluation ({exc.errors()[0]['msg']}); "
            "start it again with POST /v1/runs/{id}/reevaluations."
        ) from exc
    ctx.report(0.0, LOADING)
    with ctx.sessions() as session:
        run = session.get(Run, ctx.run_id)
        model_artifact = session.get(Artifact, params.model_artifact)
        data_artifact = session.get(Artifact, params.data_artifact)
        if run is None or model_artifact is None or data_artifact is None:
            raise ReevaluationError("The run or its artifacts were deleted before the job ran.")
        reported_train, reported_val = _last_reported(session, ctx.run_id)
        task = (data_artifact.meta or {}).get("task", run.task)
        keys = (model_artifact.storage_key, data_artifact.storage_key)
    store = open_store(ctx.settings)
    scratch = ctx.settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    device = pick_device(params.device)
    with tempfile.TemporaryDirectory(dir=scratch, prefix=f"job-{ctx.job_id}-") as tmp:
        model_path, data_path = (_local(store, key, Path(tmp)) for key in keys)
        model = load_model(model_path, device)
        data = load_data(data_path, ctx.settings.reeval_max_samples)
    ctx.check()
    settings = probe_report.Settings(
        loss=params.loss,
        label_smoothing=params.label_smoothing,
        batch_size=params.batch_size,
        eval_batch_size=ctx.settings.reeval_batch_size,
        permutations=ctx.settings.reeval_permutations,
        near_threshold=ctx.settings.reeval_near_duplicate_cosine,
        task=task,
        reported_train=reported_train,
        reported_val=reported_val,
        train_mode_samples=ctx.settings.reeval_train_mode_samples,
    )
    report = probe_report.build(
        model,
        data,
        settings,
        device,
        lambda share, stage: ctx.report(share * BUILD, stage),
        ctx.check,
    )
    if not params.batch_size_known:
        report.extra["batch_size_note"] = (
            "the run's config has no batch_size and the request gave none: train-mode passes "
            f"used {settings.batch_size}"
        )
    ctx.report(BUILD, STORING)
    with ctx.sessions() as session, session.begin():
        ctx.still_ours(session)
        probe = probes.record(session, ctx.run_id, report, job_id=ctx.job_id)
        probe_id = probe.id
    return {"probe_id": probe_id, "device": str(device), "seconds": report.seconds}


def _local(store: Any, key: str, folder: Path) -> Path:
    if isinstance(store, LocalStore):
        return store.local_path(key)
    destination = folder / key.replace("/", "_")
    store.fetch(key, destination)
    return destination
