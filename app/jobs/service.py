"""State changes of a job row. Each is a conditional UPDATE, so racing workers cannot both win."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.orm import Session

from app.db.types import utcnow
from app.errors import NotFound
from app.jobs.queue import JobQueue, enqueue_after_commit
from app.keys.access import Access
from app.models import Job, JobStatus, Run


def create_job(
    session: Session,
    queue: JobQueue,
    *,
    run_id: str,
    kind: str,
    params: dict[str, Any],
    max_attempts: int,
) -> Job:
    now = utcnow()
    job = Job(
        id=str(uuid.uuid4()),
        run_id=run_id,
        kind=kind,
        status=JobStatus.queued,
        progress=0.0,
        params=params,
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    enqueue_after_commit(session, queue, job.id)
    return job


def get_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise _not_found(job_id)
    return job


def check_visible(session: Session, access: Access, job_id: str) -> None:
    """A job belongs to its run's project; another project's job is answered like a missing one."""
    if access.admin:
        return
    found = session.execute(
        select(Run.project).join(Job, Job.run_id == Run.id).where(Job.id == job_id)
    ).first()
    if found is None or not access.sees(found.project):
        raise _not_found(job_id)


def _not_found(job_id: str) -> NotFound:
    return NotFound(f"No job with id {job_id!r}.")


def latest_for_run(session: Session, run_id: str) -> Job | None:
    """The run's most recent job, to show its progress."""
    return session.scalar(
        select(Job).where(Job.run_id == run_id).order_by(Job.created_at.desc()).limit(1)
    )


def claim(session: Session, job_id: str, owner: str, lease_seconds: float) -> Job | None:
    """Take a queued job; None when another worker has it or it is finished."""
    now = utcnow()
    claimed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.queued)
        .values(
            status=JobStatus.running,
            attempts=Job.attempts + 1,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            started_at=now,
            updated_at=now,
            error=None,
        )
    )
    if not _changed(claimed):
        return None
    session.expire_all()
    return session.get(Job, job_id)


def _changed(result: Result[Any]) -> bool:
    return bool(cast(CursorResult[Any], result).rowcount)


STAGE_LENGTH = 128


def _owned(job_id: str, owner: str) -> list[Any]:
    return [Job.id == job_id, Job.status == JobStatus.running, Job.lease_owner == owner]


def heartbeat(
    session: Session,
    job_id: str,
    owner: str,
    lease_seconds: float,
    progress: float | None = None,
    stage: str | None = None,
) -> bool:
    """Renew the lease (and say how far the job is); False when the job is no longer this
    worker's (reaped or finished)."""
    now = utcnow()
    values: dict[str, Any] = {
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "updated_at": now,
    }
    if progress is not None:
        values["progress"] = min(max(progress, 0.0), 1.0)
    if stage:
        values["stage"] = stage[:STAGE_LENGTH]
    return _changed(session.execute(update(Job).where(*_owned(job_id, owner)).values(**values)))


def succeed(session: Session, job_id: str, owner: str, result: dict[str, Any]) -> bool:
    return _finish(session, job_id, owner, status=JobStatus.succeeded, progress=1.0, result=result)


def fail(session: Session, job_id: str, owner: str, error: str) -> bool:
    return _finish(session, job_id, owner, status=JobStatus.failed, error=error)


def _finish(session: Session, job_id: str, owner: str, **outcome: Any) -> bool:
    """Record the outcome and release the lease, only while the job is still this owner's."""
    now = utcnow()
    done = session.execute(
        update(Job)
        .where(*_owned(job_id, owner))
        .values(lease_owner=None, lease_expires_at=None, finished_at=now, updated_at=now, **outcome)
    )
    return _changed(done)


@dataclass(frozen=True)
class Reaped:
    requeued: list[str]
    failed: list[str]
    redelivered: list[str]


def reap(session: Session, now: datetime, redeliver_after: timedelta) -> Reaped:
    """Recover jobs a dead worker left running, and queued jobs whose delivery was lost."""
    expired = session.execute(
        select(Job.id, Job.attempts, Job.max_attempts).where(
            Job.status == JobStatus.running, Job.lease_expires_at < now
        )
    ).all()
    requeued: list[str] = []
    failed: list[str] = []
    for job_id, attempts, max_attempts in expired:
        condition = [Job.id == job_id, Job.status == JobStatus.running, Job.lease_expires_at < now]
        if attempts >= max_attempts:
            values: dict[str, Any] = {
                "status": JobStatus.failed,
                "finished_at": now,
                "error": f"the worker running this job stopped answering {attempts} times; "
                "giving up (see the worker logs)",
            }
            target = failed
        else:
            values = {"status": JobStatus.queued}
            target = requeued
        changed = session.execute(
            update(Job)
            .where(*condition)
            .values(lease_owner=None, lease_expires_at=None, updated_at=now, **values)
        )
        if _changed(changed):
            target.append(job_id)
    stale = session.scalars(
        select(Job.id).where(Job.status == JobStatus.queued, Job.updated_at < now - redeliver_after)
    ).all()
    if stale:
        session.execute(update(Job).where(Job.id.in_(stale)).values(updated_at=now))
    return Reaped(requeued, failed, [s for s in stale if s not in requeued])
