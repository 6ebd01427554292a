"""End to end, as deployed: `lossgap serve` plus separately started `lossgap worker` processes.

The embedded default (SQLite database and queue, worker inside the server), and the team setup
(Postgres database; a Postgres- or Redis-backed queue shared by two workers): upload a model and
data with a planted leak, start a re-evaluation, poll it, read a diagnosis whose top cause is the
planted one. A worker killed with SIGKILL mid-job leaves a job another worker completes.
"""

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import torch

from tests.conftest import LiveServer, PostgresDatabase, post_json, redis_url, spawn, stop
from tests.planted import blobs, leakage, npz_bytes, script_bytes

pytestmark = pytest.mark.slow


def start_worker(env: dict[str, str], queue: str) -> subprocess.Popen[str]:
    return spawn(["worker", "--queue", queue, "--concurrency", "1"], env)


def upload(url: str, run_id: str, kind: str, content: bytes) -> None:
    response = httpx.post(
        f"{url}/v1/runs/{run_id}/artifacts",
        data={"kind": kind},
        files={"file": (kind, content)},
        timeout=60,
    )
    assert response.status_code == 201, response.text


def submit(url: str, planted) -> tuple[str, str]:
    with httpx.Client(timeout=60) as client:
        run_id = post_json(client, f"{url}/v1/runs", planted.history).json()["id"]
    upload(url, run_id, "model", planted.model)
    upload(url, run_id, "data", planted.data)
    response = httpx.post(
        f"{url}/v1/runs/{run_id}/reevaluations", json={"loss": "cross_entropy"}, timeout=30
    )
    assert response.status_code == 202, response.text
    return run_id, response.json()["job_id"]


def poll(url: str, job_id: str, until=("succeeded", "failed"), timeout=120.0) -> dict:
    deadline = time.monotonic() + timeout
    job: dict = {}
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=30).json()
        if job["status"] in until:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} stuck: {job}")


def assert_settled(url: str, run_id: str, job_id: str) -> None:
    job = poll(url, job_id)
    assert job["status"] == "succeeded", job["error"]
    diagnosis = httpx.get(f"{url}/v1/runs/{run_id}/diagnosis", timeout=30).json()
    assert diagnosis["status"] == "complete"
    assert diagnosis["causes"][0]["id"] == "data_leakage", diagnosis["summary"]


@pytest.fixture(scope="module")
def planted():
    return [leakage(seed=2), leakage(seed=3)]


def test_the_embedded_default_runs_a_reevaluation(tmp_path, planted):
    server = LiveServer({"LOSSGAP_DATA_DIR": str(tmp_path), "LOSSGAP_LOG_FORMAT": "json"})
    try:
        run_id, job_id = submit(server.url, planted[0])
        assert_settled(server.url, run_id, job_id)
    finally:
        server.stop()


@pytest.fixture
def team(tmp_path, request) -> Iterator[tuple[dict[str, str], str]]:
    database = PostgresDatabase()
    queue = f"e2e-{uuid.uuid4().hex[:8]}"
    queue_url = redis_url() if request.param == "redis" else database.url
    env = {
        "LOSSGAP_DATA_DIR": str(tmp_path),
        "LOSSGAP_DATABASE_URL": database.url,
        "LOSSGAP_AUTO_MIGRATE": "true",
        "LOSSGAP_QUEUE_URL": queue_url,
        "LOSSGAP_REEVAL_QUEUE": queue,
        "LOSSGAP_JOB_LEASE_SECONDS": "2",
        "LOSSGAP_JOB_REAP_SECONDS": "0.5",
        "LOSSGAP_LOG_FORMAT": "json",
    }
    try:
        yield env, queue
    finally:
        database.drop()


@pytest.mark.parametrize("team", ["postgres", "redis"], indirect=True)
def test_two_workers_share_a_team_queue(team, planted):
    env, queue = team
    server = LiveServer(env)
    workers = [start_worker(env, queue) for _ in range(2)]
    try:
        jobs = [submit(server.url, p) for p in planted]
        for run_id, job_id in jobs:
            assert_settled(server.url, run_id, job_id)
    finally:
        outputs = [stop(w) for w in workers]
        server.stop()
    assert all("consuming queue" in out for out in outputs)


@pytest.mark.parametrize("team", ["redis"], indirect=True)
def test_a_job_whose_worker_is_killed_completes_on_another(team):
    env, queue = team
    x, y = blobs(40_000, 32, 4, 0)
    data = npz_bytes(x_train=x[:34_000], y_train=y[:34_000], x_val=x[34_000:], y_val=y[34_000:])
    model = script_bytes(torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Linear(64, 4)))
    history = {
        "name": "big",
        "task": "classification",
        "config": {"batch_size": 64},
        "epochs": [{"epoch": 1, "train_loss": 1.4, "val_loss": 1.3}],
    }
    server = LiveServer(env)
    doomed = start_worker(env, queue)
    survivor = None
    try:
        with httpx.Client(timeout=60) as client:
            run_id = post_json(client, f"{server.url}/v1/runs", history).json()["id"]
        upload(server.url, run_id, "model", model)
        upload(server.url, run_id, "data", data)
        job_id = httpx.post(
            f"{server.url}/v1/runs/{run_id}/reevaluations", json={"loss": "cross_entropy"}
        ).json()["job_id"]
        assert poll(server.url, job_id, until=("running",))["attempts"] == 1
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=30)
        assert httpx.get(f"{server.url}/v1/jobs/{job_id}").json()["status"] == "running"
        survivor = start_worker(env, queue)
        job = poll(server.url, job_id)
        assert job["status"] == "succeeded", job["error"]
        assert job["attempts"] == 2
        probes = httpx.get(f"{server.url}/v1/runs/{run_id}/probes").json()
        assert len(probes) == 1 and probes[0]["job_id"] == job_id
        assert np.isclose(probes[0]["report"]["n_train"], 34_000)
    finally:
        stop(doomed)
        if survivor is not None:
            stop(survivor)
        server.stop()
