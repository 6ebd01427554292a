"""Jobs: the table is the truth, the queue (SQLite file or real Redis) only delivers ids."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.db.types import utcnow
from app.jobs import service
from app.models import Job, Run
from tests.conftest import make_settings, redis_url
from workers import consumer as consumers
from workers.runner import JobContext


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def echo(ctx: JobContext) -> dict:
    ctx.report(0.5)
    return {"echo": ctx.params["value"], "attempt": ctx.attempt}


def explode(ctx: JobContext) -> dict:
    raise ValueError("labels out of range: max 12 >= num_classes 10")


def spin(ctx: JobContext) -> dict:
    while True:
        ctx.check()
        time.sleep(0.02)


def staged(ctx: JobContext) -> dict:
    """Reports two stages and reads, from another session, what its row says after each."""
    seen = []
    for share, stage in ((0.25, "scoring the training set"), (0.5, "searching for copies")):
        ctx.report(share, stage)
        with ctx.sessions() as session:
            row = session.get(Job, ctx.job_id)
            seen.append([row.progress, row.stage])
    return {"seen": seen}


HANDLERS = {"echo": echo, "explode": explode, "spin": spin, "staged": staged}


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def runner(request, backend, tmp_path):
    queue_url = redis_url() if request.param == "redis-queue" else None
    settings = make_settings(
        backend["name"],
        tmp_path,
        backend["url"],
        queue_url=queue_url,
        job_lease_seconds=0.6,
        job_timeout_seconds=1.5,
        job_max_attempts=2,
        job_redeliver_seconds=0.2,
    )
    from app.db import migrate

    migrate.upgrade(settings)
    runner = consumers.build(settings, f"test-{uuid.uuid4().hex[:8]}", HANDLERS)
    yield runner
    runner.queue.huey.flush()
    with runner.sessions() as session, session.begin():
        session.execute(text("DELETE FROM jobs"))
        session.execute(text("DELETE FROM runs"))
    runner.sessions.kw["bind"].dispose()


def make_run(runner) -> str:
    with runner.sessions() as session, session.begin():
        run = Run(id=str(uuid.uuid4()), name="r", task="other", config={})
        session.add(run)
    return run.id


def submit(runner, kind, params=None, run_id=None) -> str:
    run_id = run_id or make_run(runner)
    with runner.sessions() as session, session.begin():
        job = service.create_job(
            session,
            runner.queue,
            run_id=run_id,
            kind=kind,
            params=params or {},
            max_attempts=runner.settings.job_max_attempts,
        )
    return job.id


def load(runner, job_id) -> Job:
    with runner.sessions() as session:
        return session.get(Job, job_id)


@pytest.fixture
def consuming(runner):
    consumer = consumers.consumer(runner, 2, embedded=True)
    consumer.start()
    yield runner
    consumer.stop(graceful=True)


def test_a_committed_job_is_delivered_and_its_result_recorded(consuming):
    job_id = submit(consuming, "echo", {"value": 42})
    assert wait_for(lambda: load(consuming, job_id).status == "succeeded")
    job = load(consuming, job_id)
    assert job.result == {"echo": 42, "attempt": 1} and job.progress == 1.0
    assert job.lease_owner is None and job.finished_at is not None


def test_a_running_job_shows_its_stage_and_progress_as_it_moves(consuming):
    job_id = submit(consuming, "staged", {})
    assert wait_for(lambda: load(consuming, job_id).status == "succeeded")
    job = load(consuming, job_id)
    assert job.result == {
        "seen": [[0.25, "scoring the training set"], [0.5, "searching for copies"]]
    }
    assert job.progress == 1.0 and job.stage == "searching for copies"


def test_a_rolled_back_job_is_never_delivered(runner):
    run_id = make_run(runner)
    with runner.sessions() as session:
        session.begin()
        service.create_job(
            session, runner.queue, run_id=run_id, kind="echo", params={"value": 1}, max_attempts=1
        )
        session.rollback()
    assert len(runner.queue.huey) == 0
    session = runner.sessions()
    session.begin()
    service.create_job(
        session, runner.queue, run_id=run_id, kind="echo", params={"value": 1}, max_attempts=1
    )
    assert len(runner.queue.huey) == 0  # not before the commit
    session.commit()
    session.close()
    assert len(runner.queue.huey) == 1


def test_only_one_of_two_racing_claims_wins(runner):
    job_id = submit(runner, "echo", {"value": 1})
    winners = []

    def try_claim(owner):
        with runner.sessions() as session, session.begin():
            if service.claim(session, job_id, owner, 30) is not None:
                winners.append(owner)

    threads = [threading.Thread(target=try_claim, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert load(runner, job_id).attempts == 1


def test_a_job_whose_worker_died_is_requeued_and_completes(consuming):
    # A worker that claimed a job and was SIGKILLed leaves a running row that nobody renews,
    # and Huey has already forgotten the delivery.
    run_id = make_run(consuming)
    with consuming.sessions() as session, session.begin():
        dead = service.create_job(
            session,
            consuming.queue,
            run_id=run_id,
            kind="echo",
            params={"value": 8},
            max_attempts=2,
        )
        session.flush()
        session.info.pop("after_commit")  # the delivery is consumed by the dying worker
        dead_id = dead.id
    with consuming.sessions() as session, session.begin():
        assert service.claim(session, dead_id, "dead-worker", lease_seconds=0.1) is not None
    time.sleep(0.3)
    reaped = consuming.reap()
    assert dead_id in reaped.requeued
    assert wait_for(lambda: load(consuming, dead_id).status == "succeeded")
    job = load(consuming, dead_id)
    assert job.result == {"echo": 8, "attempt": 2} and job.attempts == 2
    with consuming.sessions() as session, session.begin():
        assert not service.succeed(session, dead_id, "dead-worker", {"late": True})
    assert load(consuming, dead_id).result == {"echo": 8, "attempt": 2}


def test_a_job_that_keeps_losing_its_worker_fails_after_max_attempts(runner):
    job_id = submit(runner, "echo", {"value": 1})
    for attempt in range(2):
        with runner.sessions() as session, session.begin():
            assert service.claim(session, job_id, f"dead-{attempt}", lease_seconds=0.05)
        time.sleep(0.1)
        runner.reap()
    job = load(runner, job_id)
    assert job.status == "failed" and "stopped answering 2 times" in job.error


def test_a_lost_delivery_is_redelivered_by_the_reaper(runner):
    run_id = make_run(runner)
    with runner.sessions() as session, session.begin():
        job = service.create_job(
            session, runner.queue, run_id=run_id, kind="echo", params={"value": 3}, max_attempts=1
        )
        session.info.pop("after_commit")
    assert len(runner.queue.huey) == 0
    with runner.sessions() as session, session.begin():
        session.execute(
            Job.__table__.update()
            .where(Job.id == job.id)
            .values(updated_at=utcnow() - timedelta(seconds=5))
        )
    assert runner.reap().redelivered == [job.id]
    assert len(runner.queue.huey) == 1


def test_handler_errors_fail_the_job_with_a_readable_message(consuming):
    job_id = submit(consuming, "explode")
    assert wait_for(lambda: load(consuming, job_id).status == "failed")
    assert load(consuming, job_id).error == (
        "ValueError: labels out of range: max 12 >= num_classes 10"
    )
    unknown = submit(consuming, "no-such-kind")
    assert wait_for(lambda: load(consuming, unknown).status == "failed")
    assert "no handler for job kind 'no-such-kind'" in load(consuming, unknown).error


def test_a_job_past_its_timeout_is_failed_and_stopped(consuming):
    job_id = submit(consuming, "spin")
    assert wait_for(lambda: load(consuming, job_id).status == "failed", timeout=10)
    assert "timed out after 1.5 s" in load(consuming, job_id).error
