"""Huey consumers: a standalone `lossgap worker` process, or threads inside `lossgap serve`.

Thread workers only: CUDA does not survive a fork, and the jobs are I/O and GPU bound.
"""

import logging
import threading
from collections.abc import Mapping

from huey.consumer import Consumer

from app.config import Settings
from app.db.engine import make_engine, make_sessionmaker
from app.jobs.queue import JobQueue, install_after_commit_hooks, make_huey
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
    return runner


class Reaper(threading.Thread):
    """Runs the reaper every LOSSGAP_JOB_REAP_SECONDS (Huey's periodic tasks tick by the minute,
    too coarse for a lease of seconds). Every worker runs one; the conditional updates make
    concurrent reapers safe."""

    def __init__(self, runner: JobRunner) -> None:
        super().__init__(name="lossgap-reaper", daemon=True)
        self.runner = runner
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = self.runner.settings.job_reap_seconds
        while not self.stopped.wait(interval):
            try:
                self.runner.reap()
            except Exception:
                log.exception("reaper pass failed; retrying in %s s", interval)

    def stop(self) -> None:
        self.stopped.set()


def consumer(runner: JobRunner, concurrency: int, embedded: bool = False) -> Consumer:
    cls = EmbeddedConsumer if embedded else Consumer
    return cls(
        runner.queue.huey,
        workers=concurrency,
        worker_type="thread",
        periodic=False,
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
    reaper = Reaper(runner)
    reaper.start()
    try:
        consumer(runner, settings.worker_concurrency).run()
    finally:
        reaper.stop()
