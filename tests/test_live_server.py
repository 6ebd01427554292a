"""`lossgap serve` as a real process: concurrent writers and a graceful shutdown."""

import json
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.db import migrate
from app.db.engine import make_engine, make_sessionmaker
from app.jobs import service
from app.jobs.queue import JobQueue, install_after_commit_hooks, make_huey
from app.models import Job, Run
from tests.conftest import LiveServer, make_settings, redis_url, server_env, spawn, stop, wipe

pytestmark = pytest.mark.slow


def post(client: httpx.Client, url: str, body) -> httpx.Response:
    return client.post(url, content=json.dumps(body), headers={"content-type": "application/json"})


def test_concurrent_appends_to_one_run_lose_and_duplicate_nothing(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        created = post(
            client, "/v1/runs", {"name": "shared", "epochs": [{"epoch": 0, "val_loss": 2}]}
        )
        run_id = created.json()["id"]

        def writer(worker: int) -> list[int]:
            statuses = []
            with httpx.Client(base_url=live_server.url, timeout=60) as own:
                for round_ in range(6):
                    start = (worker * 6 + round_) * 40
                    body = {
                        # Each window overlaps the next writer's by 20 steps (retries, resends).
                        "steps": [{"step": s, "train_loss": 1.0} for s in range(start, start + 60)],
                        "epochs": [{"epoch": 1 + worker, "train_loss": 1.0, "val_loss": 1.0}],
                    }
                    statuses.append(post(own, f"/v1/runs/{run_id}/epochs", body).status_code)
            return statuses

        with ThreadPoolExecutor(8) as pool:
            statuses = [s for result in pool.map(writer, range(8)) for s in result]
        assert statuses == [200] * 48
        stored = client.get(f"/v1/runs/{run_id}").json()
        steps = [row["step"] for row in stored["steps"]]
        assert steps == list(range(8 * 6 * 40 + 20))
        assert stored["step_count"] == len(steps)
        assert [e["epoch"] for e in stored["epochs"]] == list(range(9))


def test_sigterm_lets_the_request_in_flight_finish(backend, tmp_path):
    env = server_env(backend, tmp_path)
    server = LiveServer(env)
    first_part_sent, signal_sent = threading.Event(), threading.Event()
    steps = [{"step": i, "train_loss": 1.0 / (i + 1)} for i in range(100_000)]
    body = json.dumps(
        {"name": "in-flight", "epochs": [{"epoch": 1, "val_loss": 1.0}], "steps": steps}
    ).encode()

    def chunks():
        yield body[:1000]
        first_part_sent.set()
        signal_sent.wait(10)
        for i in range(1000, len(body), 1 << 16):
            yield body[i : i + (1 << 16)]

    result: dict = {}

    def send() -> None:
        try:
            with httpx.Client(timeout=60) as client:
                result["response"] = client.post(
                    f"{server.url}/v1/runs",
                    content=chunks(),
                    headers={"content-type": "application/json"},
                )
        except httpx.HTTPError as error:
            result["error"] = error

    sender = threading.Thread(target=send)
    sender.start()
    assert first_part_sent.wait(10)
    # In flight means the server has read the request's headers: a connection whose headers
    # have not been read yet is closed at shutdown, as it should be. On a loaded machine the
    # server reads them a moment after the client sent them.
    time.sleep(1.0)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    signal_sent.set()
    sender.join(60)
    log = server.stop()
    assert "response" in result, (result.get("error"), log[-3000:])
    response = result["response"]
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]

    restarted = LiveServer(env)
    try:
        stored = httpx.get(f"{restarted.url}/v1/runs/{run_id}", params={"include_steps": "false"})
        assert stored.json()["step_count"] == 100_000
    finally:
        restarted.stop()
        wipe(backend)


def test_a_standalone_worker_process_consumes_the_shared_queue(backend, tmp_path):
    """`lossgap worker` started on its own picks up a job committed by another process."""
    queue_name = f"live-{uuid.uuid4().hex[:8]}"
    settings = make_settings(backend["name"], tmp_path, backend["url"], queue_url=redis_url())
    migrate.upgrade(settings)
    env = {**server_env(backend, tmp_path), "LOSSGAP_QUEUE_URL": redis_url()}
    worker = spawn(["worker", "--queue", queue_name], env)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    install_after_commit_hooks(sessions)
    queue = JobQueue(make_huey(settings, queue_name))
    try:
        with sessions() as session, session.begin():
            session.add(Run(id="live-run", name="r", task="other", config={}))
            session.flush()
            job = service.create_job(
                session, queue, run_id="live-run", kind="thumbnail", params={}, max_attempts=1
            )
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status not in ("failed", "succeeded"):
            time.sleep(0.1)
            with sessions() as session:
                status = session.get(Job, job.id).status
        with sessions() as session:
            stored = session.get(Job, job.id)
        assert stored.status == "failed"
        assert stored.error == "no handler for job kind 'thumbnail' in this worker"
        assert stored.lease_owner is None and stored.attempts == 1
    finally:
        output = stop(worker)
        queue.huey.flush()
        engine.dispose()
        wipe(backend)
    assert worker.returncode is not None
    assert "consuming queue" in output


def test_concurrent_creates_with_one_client_chosen_id_make_one_run(live_server):
    run_id = str(uuid.uuid4())
    body = {"id": run_id, "name": "raced", "epochs": [{"epoch": 1, "train_loss": 1.0}]}
    codes: list[int] = []

    def create():
        codes.append(httpx.post(f"{live_server.url}/v1/runs", json=body, timeout=60).status_code)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] * 5 + [201]
    runs = httpx.get(f"{live_server.url}/v1/runs").json()["items"]
    assert [r["id"] for r in runs] == [run_id] and runs[0]["epoch_count"] == 1
