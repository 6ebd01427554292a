"""The one boundary between stored runs and the analysis engine.

A diagnosis is recomputed only when the run's history (`data_version`) or the engine changed;
otherwise the stored one is served. While re-evaluation jobs of the run are queued or running the
answer is `pending`.
"""

import logging
import threading
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import analysis
from app.analysis.document import series_from_rows
from app.db.upsert import upsert
from app.models import Job, JobStatus, Run, StoredDiagnosis
from app.probes import service as probes
from app.runs import service as runs

log = logging.getLogger("lossgap.diagnoses")

# One analysis at a time in a process. It is Python and numpy on small arrays, holding the
# interpreter lock nearly throughout: two at once finish no sooner than one after the other,
# while every other request (an append holding SQLite's write lock, say) gets a fraction of the
# interpreter. Under 50 trainers and 10 readers on SQLite, concurrent analyses stretched writes
# until writers waited out the 30 s busy timeout (bench/soak.py); now diagnoses queue here.
ANALYSES_AT_ONCE = 1
_analysing = threading.BoundedSemaphore(ANALYSES_AT_ONCE)


def _cache(session: Session, run_id: str, data_version: int, body: dict[str, Any]) -> None:
    """Store the diagnosis for the next read, if the database lets us now. A read never fails
    because its cache could not be written (on SQLite another writer may hold the lock, or
    have moved this read's snapshot on): the next read computes it again."""
    row = {
        "run_id": run_id,
        "data_version": data_version,
        "engine_version": analysis.engine_version(),
        "body": body,
    }
    statement = upsert(
        session, StoredDiagnosis, ["run_id"], ["data_version", "engine_version", "body"]
    )
    try:
        with session.begin_nested():
            session.execute(statement, [row])
    except OperationalError as exc:
        log.info("diagnosis of run %s not cached: %s", run_id, exc.orig)


def get_diagnosis(session: Session, run_id: str) -> dict[str, Any]:
    run = runs.find_run(session, run_id)
    stored = session.get(StoredDiagnosis, run_id)
    if (
        stored is not None
        and stored.data_version == run.data_version
        and stored.engine_version == analysis.engine_version()
    ):
        body = stored.body
    else:
        with _analysing:
            body = analysis.diagnose(load_history(session, run)).to_dict()
        _cache(session, run_id, run.data_version, body)
    active = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.run_id == run_id, Job.status.in_([JobStatus.queued, JobStatus.running]))
    )
    return {
        "run_id": run_id,
        "status": "pending" if active else "complete",
        "engine_version": analysis.engine_version(),
        **body,
    }


def load_history(session: Session, run: Run) -> analysis.History:
    records = runs.read_epochs(session, run.id)
    table = runs.read_steps(session, run.id)
    return analysis.History(
        epoch=np.array([record.epoch for record in records], dtype=np.float64),
        epoch_series=series_from_rows([runs.epoch_row(record) for record in records], "epoch"),
        step=table.step.astype(np.int64),
        step_series={
            name: analysis.Series(col.values, col.mask()) for name, col in table.columns.items()
        },
        config=run.config,
        task=run.task,
        probe=probes.latest_report(session, run.id),
    )
