"""The one boundary between stored runs and the analysis engine.

A diagnosis is recomputed only when the run's history (`data_version`) or the engine changed;
otherwise the stored one is served. While re-evaluation jobs of the run are queued or running the
answer is `pending`.
"""

from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import analysis
from app.db.upsert import upsert
from app.models import Job, JobStatus, StoredDiagnosis
from app.runs import service as runs
from app.runs.steps import StepTable


def get_diagnosis(session: Session, run_id: str) -> dict[str, Any]:
    run = runs.get_run(session, run_id).run
    stored = session.get(StoredDiagnosis, run_id)
    if (
        stored is not None
        and stored.data_version == run.data_version
        and stored.engine_version == analysis.engine_version()
    ):
        body = stored.body
    else:
        body = analysis.diagnose(load_history(session, run_id)).to_dict()
        session.execute(
            upsert(
                session, StoredDiagnosis, ["run_id"], ["data_version", "engine_version", "body"]
            ),
            [
                {
                    "run_id": run_id,
                    "data_version": run.data_version,
                    "engine_version": analysis.engine_version(),
                    "body": body,
                }
            ],
        )
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


def load_history(session: Session, run_id: str) -> analysis.History:
    run = runs.get_run(session, run_id).run
    records = runs.read_epochs(session, run_id)
    rows = [runs.epoch_row(record) for record in records]
    names = sorted({key for row in rows for key in row} - {"epoch"})
    epoch_series = {}
    for name in names:
        present = np.array([name in row for row in rows], dtype=np.bool_)
        values = np.array([row.get(name, np.nan) for row in rows], dtype=np.float64)
        epoch_series[name] = analysis.Series(values, present)
    table = runs.read_steps(session, run_id)
    return analysis.History(
        epoch=np.array([record.epoch for record in records], dtype=np.float64),
        epoch_series=epoch_series,
        step=table.step.astype(np.int64),
        step_series=_step_series(table),
        config=run.config,
        task=run.task,
    )


def _step_series(table: StepTable) -> dict[str, analysis.Series]:
    return {name: analysis.Series(col.values, col.mask()) for name, col in table.columns.items()}
