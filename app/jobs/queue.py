"""The thin facade over Huey: which queue backend, and how a job id is delivered.

`SqliteHuey` in the data directory is the embedded default (no server); `LOSSGAP_QUEUE_URL`
selects Redis or Postgres, so workers on other machines share the queue. Only job ids travel on
the queue: everything else is in the jobs table.
"""

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings

log = logging.getLogger("lossgap.jobs")

RUN_JOB = "lossgap.run_job"


class QueueConfigError(ValueError):
    pass


def make_huey(settings: Settings, queue: str = "default") -> Huey:
    name = f"lossgap-{queue}"
    url = settings.queue_url
    if not url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(Path(settings.data_dir) / "queue.db"))
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss", "unix"):
        return RedisHuey(name, url=url)
    if scheme.startswith("postgres"):
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(name, dsn=dsn)
    if scheme == "sqlite":
        return SqliteHuey(name, filename=make_url(url).database or "queue.db")
    raise QueueConfigError(
        f"LOSSGAP_QUEUE_URL={url!r} is not a queue this service knows: use redis://…, "
        "postgresql://… or sqlite:///path (or leave it unset for the embedded SQLite queue)."
    )


class JobQueue:
    """Delivers job ids. The same task names are registered by producers and consumers."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._execute: Callable[[str], None] | None = None
        self._run_job = huey.task(name=RUN_JOB)(self._deliver)

    def enqueue(self, job_id: str) -> None:
        self._run_job(job_id)

    def serve(self, execute: Callable[[str], None]) -> None:
        """Make this process a consumer: delivered ids go to `execute`."""
        self._execute = execute

    def _deliver(self, job_id: str) -> None:
        if self._execute is None:
            raise RuntimeError("this process only produces jobs; run `lossgap worker`")
        self._execute(job_id)


def enqueue_after_commit(session: Session, queue: JobQueue, job_id: str) -> None:
    """Deliver only once the job row is committed: a worker must never see an id it cannot read.

    A delivery that fails (queue down) is logged, not raised: the job is committed and queued,
    and the reaper redelivers queued jobs that no worker picked up.
    """

    def deliver() -> None:
        try:
            queue.enqueue(job_id)
        except Exception:
            log.warning(
                "could not enqueue job %s; the reaper will redeliver it", job_id, exc_info=True
            )

    session.info.setdefault("after_commit", []).append(deliver)


def install_after_commit_hooks(factory: sessionmaker[Session]) -> None:
    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        callbacks: list[Callable[[], Any]] = session.info.pop("after_commit", [])
        for callback in callbacks:
            callback()

    @event.listens_for(factory, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: Any) -> None:
        session.info.pop("after_commit", None)
