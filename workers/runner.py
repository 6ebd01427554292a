"""Executes delivered jobs: claim the row, run the handler under a lease, record the outcome.

The lease is renewed from a side thread while the handler works; if the renewal fails (the
reaper gave the job to another worker) or the job runs past LOSSGAP_JOB_TIMEOUT_SECONDS, the
handler is told to stop through `JobContext.check()` and its result is discarded.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db.types import utcnow
from app.jobs import service
from app.jobs.queue import JobQueue

log = logging.getLogger("lossgap.worker")


class JobFailed(Exception):
    """A failure whose message is written for the user (what was wrong, how to fix it)."""


class JobCancelled(Exception):
    """Raised by `JobContext.check()` when the job timed out or was taken away."""


@dataclass
class JobContext:
    job_id: str
    run_id: str
    kind: str
    params: dict[str, Any]
    attempt: int
    sessions: sessionmaker[Session]
    settings: Settings
    owner: str = ""
    progress: float = 0.0
    stage: str = ""
    stop_reason: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _written: float = 0.0  # monotonic time progress was last written

    def report(self, progress: float, stage: str | None = None) -> None:
        """Where the job is; written to its row at once when the stage changes, else at most
        every LOSSGAP_JOB_PROGRESS_SECONDS (the lease renewal writes it too)."""
        moved = bool(stage) and stage != self.stage
        self.progress, self.stage = progress, stage or self.stage
        now = time.monotonic()
        if not (moved or now - self._written >= self.settings.job_progress_seconds):
            return
        self._written = now
        with self.sessions() as session, session.begin():
            ours = service.heartbeat(
                session,
                self.job_id,
                self.owner,
                self.settings.job_lease_seconds,
                self.progress,
                self.stage,
            )
        if not ours:
            self.stop_reason = self.stop_reason or "the job is no longer this worker's"
            self._stop.set()

    def check(self) -> None:
        if self._stop.is_set():
            raise JobCancelled(self.stop_reason or "stopped")

    def still_ours(self, session: Session) -> None:
        """Inside the transaction that writes the job's results: renew the lease (locking the
        job row) or raise when the job timed out or went to another worker, so a worker that
        lost its job never writes results for it."""
        self.check()
        lease = self.settings.job_lease_seconds
        if not service.heartbeat(
            session, self.job_id, self.owner, lease, self.progress, self.stage
        ):
            raise JobCancelled("the job is no longer this worker's")


JobHandler = Callable[[JobContext], dict[str, Any]]


class JobRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        queue: JobQueue,
        handlers: Mapping[str, JobHandler],
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.queue = queue
        self.handlers = dict(handlers)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def execute(self, job_id: str) -> None:
        lease = self.settings.job_lease_seconds
        with self._transaction() as session:
            job = service.claim(session, job_id, self.owner, lease)
            if job is None:
                log.info("job %s already taken or finished; skipping", job_id)
                return
            context = JobContext(
                job.id,
                job.run_id,
                job.kind,
                dict(job.params),
                job.attempts,
                self.sessions,
                self.settings,
                self.owner,
            )
        handler = self.handlers.get(context.kind)
        if handler is None:
            self._finish(context, error=f"no handler for job kind {context.kind!r} in this worker")
            return
        keeper = threading.Thread(target=self._keep_lease, args=(context,), daemon=True)
        keeper.start()
        try:
            result = handler(context)
        except JobCancelled:
            log.warning("job %s stopped: %s", job_id, context.stop_reason)
            return
        except JobFailed as exc:
            log.warning("job %s failed: %s", job_id, exc)
            self._finish(context, error=str(exc))
            return
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self._finish(context, error=f"{exc.__class__.__name__}: {exc}")
            return
        finally:
            context._stop.set()
            keeper.join()
        self._finish(context, result=result)

    def _finish(
        self, context: JobContext, *, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        with self._transaction() as session:
            if error is None:
                recorded = service.succeed(session, context.job_id, self.owner, result or {})
            else:
                recorded = service.fail(session, context.job_id, self.owner, error)
        if not recorded:
            log.warning("job %s was no longer ours; its outcome was discarded", context.job_id)

    def _keep_lease(self, context: JobContext) -> None:
        lease = self.settings.job_lease_seconds
        deadline = time.monotonic() + self.settings.job_timeout_seconds
        while not context._stop.wait(min(lease / 3, max(deadline - time.monotonic(), 0))):
            if time.monotonic() >= deadline:
                context.stop_reason = (
                    f"timed out after {self.settings.job_timeout_seconds:g} s "
                    "(LOSSGAP_JOB_TIMEOUT_SECONDS)"
                )
                with self._transaction() as session:
                    service.fail(session, context.job_id, self.owner, context.stop_reason)
                context._stop.set()
                return
            with self._transaction() as session:
                ours = service.heartbeat(
                    session, context.job_id, self.owner, lease, context.progress, context.stage
                )
            if not ours:
                context.stop_reason = "the lease was lost: another worker took the job over"
                context._stop.set()
                return

    def reap(self) -> service.Reaped:
        redeliver = timedelta(seconds=self.settings.job_redeliver_seconds)
        with self._transaction() as session:
            reaped = service.reap(session, utcnow(), redeliver)
        for job_id in reaped.requeued + reaped.redelivered:
            self.queue.enqueue(job_id)
        if reaped.requeued or reaped.failed or reaped.redelivered:
            log.warning(
                "reaper: requeued %s, failed %s, redelivered %s",
                reaped.requeued,
                reaped.failed,
                reaped.redelivered,
            )
        return reaped
