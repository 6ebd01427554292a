"""Storing and reading loss histories. Knows the database, not HTTP; never commits.

Every write to a run's history first bumps `runs.data_version` with an UPDATE. That statement
takes the run's row lock (Postgres) or the database write lock (SQLite) before anything is read,
so concurrent appends to one run serialize and the step-chunk merge below never races.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from app.config import Settings
from app.db.types import utcnow
from app.db.upsert import upsert
from app.errors import InvalidInput, LimitExceeded, NotFound
from app.keys.access import Access
from app.models import EpochRecord, Run, StepChunk
from app.runs import steps as step_columns
from app.runs.schemas import EpochRow, HistoryAppend, RunCreate, Steps, step_count
from app.runs.steps import StepTable
from app.runs.streamed import StreamedSteps


@dataclass(frozen=True)
class RunCounts:
    run: Run
    epoch_count: int
    step_count: int
    created: bool = True


@dataclass(frozen=True)
class AppendResult:
    run_id: str
    epochs_written: int
    steps_written: int
    epoch_count: int
    step_count: int
    data_version: int


def create_run(session: Session, settings: Settings, body: RunCreate, access: Access) -> RunCounts:
    """With a client-chosen id the INSERT is tried first (a write first takes SQLite's write
    lock, where a read first would deadlock with a concurrent retry); a clash means the run
    exists, and the rows are appended to it when the key sees it (404 otherwise, as for any
    run of another project)."""
    project = access.project_for(body.project)
    _check_config(body.config, settings)
    epochs = _dedupe_epochs(body.epochs)
    _check_epoch_rows(epochs, settings)
    table = _step_table(body.steps, settings)
    now = utcnow()
    run = Run(
        id=body.id or str(uuid.uuid4()),
        name=body.name,
        project=project,
        task=body.task,
        config=body.config,
        data_version=1,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        if body.id is None:
            raise
        check_visible(session, access, body.id)
        return _retried_create(session, settings, body)
    if epochs:
        session.execute(insert(EpochRecord), [_epoch_values(run.id, row) for row in epochs])
    if table is not None:
        session.add(_chunk(run.id, table))
    session.flush()
    return RunCounts(run, len(epochs), 0 if table is None else len(table))


def _retried_create(session: Session, settings: Settings, body: RunCreate) -> RunCounts:
    """A create for a run that exists: its rows replace the same epochs and steps."""
    assert body.id is not None
    append_history(session, settings, body.id, HistoryAppend(epochs=body.epochs, steps=body.steps))
    counts = get_run(session, body.id)
    return RunCounts(counts.run, counts.epoch_count, counts.step_count, created=False)


def append_history(
    session: Session, settings: Settings, run_id: str, body: HistoryAppend
) -> AppendResult:
    epochs = _dedupe_epochs(body.epochs)
    _check_epoch_rows(epochs, settings)
    table = _step_table(body.steps, settings)
    version = bump_version(session, run_id)
    if epochs:
        _upsert_epochs(session, run_id, epochs)
    if table is not None:
        _write_steps(session, run_id, table)
    epoch_count, step_count, chunk_count = _counts(session, run_id)
    if chunk_count >= step_columns.COMPACTION_FANOUT:
        _compact(session, run_id)
    if epoch_count > settings.max_epochs_per_run:
        raise LimitExceeded(
            f"The run would hold {epoch_count} epochs, more than LOSSGAP_MAX_EPOCHS_PER_RUN="
            f"{settings.max_epochs_per_run}; nothing was stored."
        )
    if step_count > settings.max_steps_per_run:
        raise LimitExceeded(
            f"The run would hold {step_count} steps, more than LOSSGAP_MAX_STEPS_PER_RUN="
            f"{settings.max_steps_per_run}; nothing was stored. Log steps less often."
        )
    return AppendResult(
        run_id, len(epochs), 0 if table is None else len(table), epoch_count, step_count, version
    )


def find_run(session: Session, run_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise _not_found(run_id)
    return run


def check_visible(session: Session, access: Access, run_id: str) -> None:
    """A run the key may not see is answered like a run that does not exist."""
    if access.admin:
        return
    project = session.scalar(select(Run.project).where(Run.id == run_id))
    if not access.sees(project):
        raise _not_found(run_id)


def get_run(session: Session, run_id: str) -> RunCounts:
    run = find_run(session, run_id)
    epoch_count, step_count, _ = _counts(session, run_id)
    return RunCounts(run, epoch_count, step_count)


def list_runs(
    session: Session,
    access: Access,
    *,
    name: str | None,
    project: str | None,
    limit: int,
    offset: int,
) -> tuple[list[RunCounts], int]:
    filters: list[ColumnElement[bool]] = []
    if access.projects is not None:
        filters.append(Run.project.in_(sorted(access.projects)))
    if name is not None:
        filters.append(Run.name == name)
    if project is not None:
        filters.append(Run.project == project)
    total = session.scalar(select(func.count()).select_from(Run).where(*filters)) or 0
    epoch_count = (
        select(func.count()).where(EpochRecord.run_id == Run.id).correlate(Run).scalar_subquery()
    )
    step_count = (
        select(func.coalesce(func.sum(StepChunk.n_rows), 0))
        .where(StepChunk.run_id == Run.id)
        .correlate(Run)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Run, epoch_count, step_count)
        .where(*filters)
        .order_by(Run.created_at.desc(), Run.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [RunCounts(run, int(e), int(s)) for run, e, s in rows], int(total)


def delete_run(session: Session, run_id: str) -> None:
    if session.execute(delete(Run).where(Run.id == run_id)).rowcount == 0:  # type: ignore[attr-defined]
        raise _not_found(run_id)


def read_epochs(session: Session, run_id: str) -> list[EpochRecord]:
    return list(
        session.scalars(
            select(EpochRecord).where(EpochRecord.run_id == run_id).order_by(EpochRecord.epoch)
        )
    )


def read_steps(session: Session, run_id: str) -> StepTable:
    blobs = session.scalars(
        select(StepChunk.data).where(StepChunk.run_id == run_id).order_by(StepChunk.first_step)
    )
    return step_columns.concat_disjoint([step_columns.decode(blob) for blob in blobs])


def epoch_row(record: EpochRecord) -> dict[str, float]:
    """A stored epoch as the client sent it: absent and null values are left out."""
    row: dict[str, float] = {"epoch": _whole(record.epoch)}
    if record.train_loss is not None:
        row["train_loss"] = record.train_loss
    if record.val_loss is not None:
        row["val_loss"] = record.val_loss
    for key, value in (record.metrics or {}).items():
        if value is not None:
            row[key] = value
    return row


def _whole(value: float) -> float:
    return int(value) if value.is_integer() else value


def _not_found(run_id: str) -> NotFound:
    return NotFound(f"No run with id {run_id!r}; list runs with GET /v1/runs.")


def bump_version(session: Session, run_id: str) -> int:
    """Mark the run changed (its stored diagnosis is stale); serializes writers of the run."""
    version = session.scalar(
        update(Run)
        .where(Run.id == run_id)
        .values(data_version=Run.data_version + 1, updated_at=utcnow())
        .returning(Run.data_version)
    )
    if version is None:
        raise _not_found(run_id)
    return int(version)


def _counts(session: Session, run_id: str) -> tuple[int, int, int]:
    """Epoch rows, step rows and step chunks of a run, in one round trip."""
    epochs = (
        select(func.count()).select_from(EpochRecord).where(EpochRecord.run_id == run_id)
    ).scalar_subquery()
    row = session.execute(
        select(
            epochs, func.coalesce(func.sum(StepChunk.n_rows), 0), func.count(StepChunk.id)
        ).where(StepChunk.run_id == run_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _check_config(config: dict[str, Any], settings: Settings) -> None:
    size = len(json.dumps(config, allow_nan=True))
    if size > settings.max_config_bytes:
        raise LimitExceeded(
            f"config is {size} bytes as JSON, more than LOSSGAP_MAX_CONFIG_BYTES="
            f"{settings.max_config_bytes}; keep hyper-parameters there, not data."
        )


def _dedupe_epochs(rows: Sequence[EpochRow]) -> list[EpochRow]:
    """The last row sent for an epoch number wins, as a re-sent row would."""
    return list({row.epoch: row for row in rows}.values())


def _check_epoch_rows(rows: Sequence[EpochRow], settings: Settings) -> None:
    if len(rows) > settings.max_epochs_per_run:
        raise LimitExceeded(
            f"{len(rows)} epoch rows exceed LOSSGAP_MAX_EPOCHS_PER_RUN="
            f"{settings.max_epochs_per_run}."
        )
    for i, row in enumerate(rows):
        metrics = row.metrics
        if len(metrics) + 3 > settings.max_metrics_per_row:
            raise InvalidInput(
                f"epochs[{i}]: {len(metrics) + 3} keys exceed LOSSGAP_MAX_METRICS_PER_ROW="
                f"{settings.max_metrics_per_row}."
            )
        for key in metrics:
            if len(key) > 100:
                raise InvalidInput(
                    f"epochs[{i}]: metric name {key[:20]!r}… is over 100 characters."
                )


def _step_table(steps: Steps, settings: Settings) -> StepTable | None:
    count = step_count(steps)
    if count > settings.max_steps_per_request:
        raise LimitExceeded(
            f"{count} step rows exceed LOSSGAP_MAX_STEPS_PER_REQUEST="
            f"{settings.max_steps_per_request}; split them over several appends."
        )
    table: StepTable | None
    if isinstance(steps, StreamedSteps):
        table = _streamed_table(steps, settings.max_metrics_per_row)
    elif isinstance(steps, dict):
        table = step_columns.from_columns(steps, settings.max_metrics_per_row) if steps else None
    else:
        table = step_columns.from_rows(steps, settings.max_metrics_per_row) if steps else None
    return table if table is not None and len(table) else None


def _streamed_table(steps: StreamedSteps, max_keys: int) -> StepTable | None:
    if steps.bad is None:
        return step_columns.from_arrays(steps.step, steps.columns, steps.keys, max_keys)
    step_columns.from_rows([steps.bad.row], max_keys, first_index=steps.bad.index)
    raise InvalidInput(f"steps[{steps.bad.index}]: this step row cannot be stored.")


def _epoch_values(run_id: str, row: EpochRow) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "epoch": row.epoch,
        "train_loss": row.train_loss,
        "val_loss": row.val_loss,
        "metrics": row.metrics or None,
    }


def _upsert_epochs(session: Session, run_id: str, rows: Sequence[EpochRow]) -> None:
    statement = upsert(
        session, EpochRecord, ["run_id", "epoch"], ["train_loss", "val_loss", "metrics"]
    )
    session.execute(statement, [_epoch_values(run_id, row) for row in rows])


def _chunk(run_id: str, table: StepTable) -> StepChunk:
    return StepChunk(
        run_id=run_id,
        first_step=table.first,
        last_step=table.last,
        n_rows=len(table),
        data=step_columns.encode(table),
    )


def _write_steps(session: Session, run_id: str, table: StepTable) -> None:
    """Add the rows as a chunk, merging (new rows win) with the chunks whose range they overlap."""
    overlapping = list(
        session.scalars(
            select(StepChunk)
            .where(
                StepChunk.run_id == run_id,
                StepChunk.first_step <= table.last,
                StepChunk.last_step >= table.first,
            )
            .order_by(StepChunk.first_step)
        )
    )
    if overlapping:
        table = step_columns.merge([*(step_columns.decode(c.data) for c in overlapping), table])
        session.execute(delete(StepChunk).where(StepChunk.id.in_([c.id for c in overlapping])))
    session.add(_chunk(run_id, table))
    session.flush()


def _compact(session: Session, run_id: str) -> None:
    while True:
        chunks = session.execute(
            select(StepChunk.id, StepChunk.n_rows)
            .where(StepChunk.run_id == run_id)
            .order_by(StepChunk.first_step)
        ).all()
        picked = step_columns.plan_compaction([(int(i), int(n)) for i, n in chunks])
        if picked is None:
            return
        parts = session.scalars(
            select(StepChunk)
            .options(load_only(StepChunk.data))
            .where(StepChunk.id.in_(picked))
            .order_by(StepChunk.first_step)
        )
        merged = step_columns.concat_disjoint([step_columns.decode(c.data) for c in parts])
        session.execute(delete(StepChunk).where(StepChunk.id.in_(picked)))
        session.add(_chunk(run_id, merged))
        session.flush()
