"""Huey consumers: a standalone `lossgap worker` process, or threads inside `lossgap serve`.

Thread workers only: CUDA does not survive a fork, and the jobs are I/O and GPU bound.
"""

import logging
from collections.abc import Mapping

from huey import crontab
from huey.consumer import Consumer

from app.config import Settings
from app.db.engine import make_engine, make_sessionmaker
from app.jobs.queue import REAP, JobQueue, install_after_commit_hooks, make_huey
from workers.runner import JobHandler, JobRunner

log = logging.getLogger("lossgap.worker")


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer that leaves signal handling to its host process (uvicorn, a test)."""

    def _set_signal_handlers(self) -> None:
        return None


def build(settings: Settings, queue_name: str, handlers: Mapping[str, JobHandler]) -> JobRunner:
    sessions = make_sessionmaker(make_engine(settings))
    install_after_commit_hooks(sessions)
    queue = JobQueue(make_huey(settings, queue_name))
    runner = JobRunner(sessions, settings, queue, handlers)
    queue.serve(runner.execute)
    queue.huey.periodic_task(crontab(), name=REAP)(runner.reap)
    return runner


def consumer(runner: JobRunner, concurrency: int, embedded: bool = False) -> Consumer:
    cls = EmbeddedConsumer if embedded else Consumer
    return cls(
        runner.queue.huey,
        workers=concurrency,
        worker_type="thread",
        periodic=True,
        initial_delay=0.05,
        max_delay=1.0,
        shutdown_timeout=None,
    )


def run_worker(settings: Settings, queue_name: str, handlers: Mapping[str, JobHandler]) -> None:
    runner = build(settings, queue_name, handlers)
    runner.reap()
    log.info(
        "worker %s consuming queue %r with kinds %s",
        runner.owner,
        queue_name,
        sorted(handlers) or "(none)",
    )
    consumer(runner, settings.worker_concurrency).run()
