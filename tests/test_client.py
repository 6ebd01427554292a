"""The Python client against a real server: rows arrive once, even across a server outage."""

import json
import math
import socket
import threading
import time

import httpx
import pytest
from lossgap_client import Client, Tracker

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


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_leaving_a_run_with_the_server_down_is_quick_and_keeps_the_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSGAP_SPOOL", str(tmp_path / "spool"))
    tracker = Tracker("down", url=f"http://127.0.0.1:{unused_port()}", task="classification")
    for epoch in range(1, 4):
        tracker.epoch(val_loss=1.0 / epoch, train_loss=1.2 / epoch)
    wall, cpu = time.monotonic(), time.process_time()
    tracker.__exit__(None, None, None)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    assert wall < 2.0, f"leaving the run took {wall:.1f} s"
    assert cpu < 0.5, f"leaving the run burned {cpu:.1f} s of CPU"
    spooled = json.loads((tmp_path / "spool" / f"{tracker.id}.json").read_text())
    assert [row["epoch"] for row in spooled["epochs"]] == [1, 2, 3]


def test_concurrent_spool_writes_neither_fail_nor_leave_files_behind(tmp_path, caplog):
    spool = tmp_path / "spool"
    client = Client(f"http://127.0.0.1:{unused_port()}", spool_dir=spool, flush_interval=0.01)
    run = client.create_run("race")
    run.log_epoch(1, train_loss=1.0, val_loss=1.1)
    threads = [
        threading.Thread(target=lambda: [client._write_spool() for _ in range(50)])
        for _ in range(8)
    ]
    with caplog.at_level("WARNING", logger="lossgap_client"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.close(timeout=0.5)
    assert not [r for r in caplog.records if "cannot spool" in r.getMessage()]
    assert sorted(p.name for p in spool.iterdir()) == [f"{run.id}.json"]
    assert json.loads((spool / f"{run.id}.json").read_text())["epochs"][0]["epoch"] == 1
