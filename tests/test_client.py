"""The Python client against a real server: rows arrive once, even across a server outage."""

import math

import httpx
import pytest
from lossgap_client import Client

from tests.conftest import LiveServer, server_env, wipe

pytestmark = pytest.mark.slow


def stored(url, run_id):
    run = httpx.get(f"{url}/v1/runs/{run_id}", timeout=30).json()
    return run["epochs"], run["steps"]


def test_a_training_loop_reports_and_reads_its_diagnosis(backend, tmp_path):
    server = LiveServer(server_env(backend, tmp_path))
    try:
        with Client(server.url, spool_dir=tmp_path / "spool", flush_interval=0.05) as client:
            run = client.create_run("loop", task="classification", config={"batch_size": 32})
            run.log_steps(step=1, train_loss=2.5)  # steps before any epoch wait for the first
            assert client.flush(timeout=5)
            for epoch in range(1, 13):
                run.log_steps(
                    [{"step": epoch * 10 + i, "train_loss": 2.0 / epoch} for i in range(10)]
                )
                run.log_epoch(epoch, train_loss=2.0 / epoch, val_loss=1.2 / epoch + 0.01 * epoch)
            run.log_epoch(13, train_loss=math.nan, val_loss=0.5)
            diagnosis = run.diagnosis()
        assert diagnosis is not None and diagnosis["status"] == "complete"
        epochs, steps = stored(server.url, run.id)
        assert [r["epoch"] for r in epochs] == list(range(1, 14))
        assert math.isnan(epochs[-1]["train_loss"]) and len(steps) == 121
        assert httpx.get(f"{server.url}/v1/runs/{run.id}").json()["config"] == {"batch_size": 32}
    finally:
        server.stop()
        wipe(backend)


def test_rows_survive_a_server_outage_without_loss_or_duplicates(backend, tmp_path):
    env = server_env(backend, tmp_path)
    server = LiveServer(env)
    port, spool = server.port, tmp_path / "spool"
    client = Client(server.url, spool_dir=spool, flush_interval=0.05, max_backoff=0.2)
    run = client.create_run("outage")
    for epoch in range(1, 6):
        run.log_epoch(epoch, train_loss=1.0 / epoch, val_loss=0.9 / epoch)
    assert client.flush()
    server.stop()
    try:
        for epoch in range(6, 11):  # the server is down: logging neither raises nor blocks
            run.log_epoch(epoch, train_loss=1.0 / epoch, val_loss=0.9 / epoch)
            run.log_steps(step=epoch, train_loss=1.0 / epoch)
        assert not client.flush(timeout=1)
        assert (spool / f"{run.id}.json").exists()
        client.close(timeout=0.5)  # the process ends with rows unsent: they stay spooled
        server = LiveServer(env, port=port)
        with Client(server.url, spool_dir=spool, flush_interval=0.05) as later:
            assert later.flush()
        epochs, steps = stored(server.url, run.id)
        assert [r["epoch"] for r in epochs] == list(range(1, 11))
        assert [s["step"] for s in steps] == list(range(6, 11))
        assert not list(spool.glob("*.json"))
        assert len(httpx.get(f"{server.url}/v1/runs").json()["items"]) == 1
    finally:
        server.stop()
        wipe(backend)


def test_a_create_lost_in_flight_is_retried_without_a_second_run(backend, tmp_path):
    server = LiveServer(server_env(backend, tmp_path))
    try:
        with Client(server.url, spool_dir=tmp_path / "spool", flush_interval=0.05) as client:
            run = client.create_run("twice")
            run.log_epoch(1, train_loss=1.0, val_loss=1.0)
            row = {"epoch": 1, "train_loss": 1.0, "val_loss": 1.0}  # the same row the client sends
            body = {"id": run.id, "name": "twice", "epochs": [row]}
            assert httpx.post(f"{server.url}/v1/runs", json=body).status_code in (200, 201)
            assert client.flush()  # its own create now meets the stored run: appended, not doubled
        assert len(httpx.get(f"{server.url}/v1/runs").json()["items"]) == 1
        epochs, _ = stored(server.url, run.id)
        assert epochs == [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.0}]
    finally:
        server.stop()
        wipe(backend)
