"""Ingestion benchmark: a run of 1,000 epochs + 1,000,000 steps through the HTTP API.

Measures lossgap on SQLite and on Postgres, each as one bulk POST and as a training script would
stream it (one append per epoch carrying that epoch's steps), and, in the same process, the same
history logged into an MLflow tracking server (SQLite backend, `log_batch` of 1,000 metrics, its
per-request maximum). Prints seconds, rows/s and each lossgap figure as a multiple of MLflow.

    python bench/ingest.py                       # full size (needs the `bench` extra for MLflow)
    python bench/ingest.py --steps 100000 --no-mlflow

Targets (issue 2): the full run ingested in under 10 s, at least 10x faster than MLflow.
"""

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import httpx

POSTGRES_ADMIN_URL = os.environ.get(
    "LOSSGAP_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout} s")


@contextmanager
def server(command: list[str], env: dict[str, str], ready_path: str, port: int):
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            wait_ready(f"http://127.0.0.1:{port}{ready_path}", process)
            yield f"http://127.0.0.1:{port}", process.pid
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def history(n_epochs: int, n_steps: int) -> tuple[list[dict], list[dict]]:
    per_epoch = n_steps // n_epochs
    epochs = [
        {
            "epoch": e + 1,
            "train_loss": 2.0 * math.exp(-e / 200) + 0.1,
            "val_loss": 1.8 * math.exp(-e / 250) + 0.15,
            "val_accuracy": 1 - math.exp(-e / 100),
        }
        for e in range(n_epochs)
    ]
    steps = [
        {
            "step": s,
            "epoch": s / per_epoch,
            "train_loss": 2.0 * math.exp(-s / (200 * per_epoch)) + 0.1 + 0.05 * math.sin(s),
        }
        for s in range(n_steps)
    ]
    return epochs, steps


def post(client: httpx.Client, url: str, body: bytes) -> httpx.Response:
    response = client.post(url, content=body, headers={"content-type": "application/json"})
    response.raise_for_status()
    return response


def lossgap_bulk(base: str, epochs: list[dict], steps: list[dict]) -> float:
    body = json.dumps({"name": "bench-bulk", "epochs": epochs, "steps": steps}).encode()
    with httpx.Client(base_url=base, timeout=600) as client:
        started = time.perf_counter()
        created = post(client, "/v1/runs", body).json()
        elapsed = time.perf_counter() - started
    assert created["step_count"] == len(steps) and created["epoch_count"] == len(epochs)
    return elapsed


def lossgap_columns(base: str, epochs: list[dict], steps: list[dict]) -> float:
    """The same bulk POST with steps in the columnar form (one array per key)."""
    columns = {key: [row[key] for row in steps] for key in ("step", "epoch", "train_loss")}
    body = json.dumps({"name": "bench-columns", "epochs": epochs, "steps": columns}).encode()
    with httpx.Client(base_url=base, timeout=600) as client:
        started = time.perf_counter()
        created = post(client, "/v1/runs", body).json()
        elapsed = time.perf_counter() - started
    assert created["step_count"] == len(steps)
    return elapsed


def lossgap_stream(base: str, epochs: list[dict], steps: list[dict]) -> float:
    per_epoch = len(steps) // len(epochs)
    bodies = [
        json.dumps(
            {"epochs": [epoch], "steps": steps[i * per_epoch : (i + 1) * per_epoch]}
        ).encode()
        for i, epoch in enumerate(epochs)
    ]
    first = json.dumps({"name": "bench-stream", "epochs": [epochs[0]]}).encode()
    with httpx.Client(base_url=base, timeout=600) as client:
        started = time.perf_counter()
        run_id = post(client, "/v1/runs", first).json()["id"]
        for body in bodies:
            last = post(client, f"/v1/runs/{run_id}/epochs", body).json()
        elapsed = time.perf_counter() - started
    assert last["step_count"] == len(steps) and last["epoch_count"] == len(epochs)
    return elapsed


def lossgap_on(database: str, work: Path):
    port = free_port()
    env = {"LOSSGAP_DATA_DIR": str(work / "lossgap"), "LOSSGAP_LOG_LEVEL": "WARNING"}
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if database == "postgres":
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"lossgap_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_ADMIN_URL).set(database=name)
        env |= {
            "LOSSGAP_DATABASE_URL": url.render_as_string(hide_password=False),
            "LOSSGAP_AUTO_MIGRATE": "true",
        }

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    command = [sys.executable, "-m", "app", "serve", "--port", str(port)]
    return server(command, env, "/readyz", port), drop


def mlflow_ingest(work: Path, epochs: list[dict], steps: list[dict]) -> float:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    port = free_port()
    store = work / "mlflow"
    store.mkdir()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{store / 'mlflow.db'}",
        "--default-artifact-root",
        str(store / "artifacts"),
        "--workers",
        "1",
    ]
    with server(command, {}, "/health", port) as (base, _):
        client = MlflowClient(tracking_uri=base)
        experiment = client.create_experiment(f"bench-{uuid.uuid4().hex[:6]}")
        now = int(time.time() * 1000)
        metrics = [Metric("train_loss_step", s["train_loss"], now, s["step"]) for s in steps]
        for e in epochs:
            for key in ("train_loss", "val_loss", "val_accuracy"):
                metrics.append(Metric(key, e[key], now, e["epoch"]))
        batches = [metrics[i : i + 1000] for i in range(0, len(metrics), 1000)]
        started = time.perf_counter()
        run = client.create_run(experiment)
        for batch in batches:
            client.log_batch(run.info.run_id, metrics=batch)
        elapsed = time.perf_counter() - started
        stored = client.get_metric_history(run.info.run_id, "val_loss")
        assert len(stored) == len(epochs)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    epochs, steps = history(args.epochs, args.steps)
    rows = len(epochs) + len(steps)
    work = Path(tempfile.mkdtemp(prefix="lossgap-bench-"))
    results: list[tuple[str, float]] = []
    peaks: dict[str, float] = {}
    try:
        for database in ["sqlite"] + ([] if args.no_postgres else ["postgres"]):
            running, drop = lossgap_on(database, work / database)
            try:
                with running as (base, pid):
                    results.append(
                        (f"lossgap {database}, one bulk POST", lossgap_bulk(base, epochs, steps))
                    )
                    results.append(
                        (
                            f"lossgap {database}, bulk POST, column steps",
                            lossgap_columns(base, epochs, steps),
                        )
                    )
                    results.append(
                        (
                            f"lossgap {database}, {len(epochs)} appends",
                            lossgap_stream(base, epochs, steps),
                        )
                    )
                    peaks[database] = peak_rss_mib(pid)
            finally:
                drop()
        mlflow = None if args.no_mlflow else mlflow_ingest(work, epochs, steps)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nIngest {len(epochs):,} epochs + {len(steps):,} steps ({rows:,} rows) over HTTP\n")
    print(f"{'system':<44} {'seconds':>9} {'rows/s':>12} {'vs MLflow':>10}")
    if mlflow is not None:
        results.append(("MLflow server (SQLite), log_batch", mlflow))
    for name, seconds in results:
        ratio = f"{mlflow / seconds:9.1f}x" if mlflow else "-"
        print(f"{name:<44} {seconds:9.2f} {rows / seconds:12,.0f} {ratio:>10}")
    for database, mib in peaks.items():
        print(f"peak memory of the lossgap server process ({database}): {mib:,.0f} MiB")
    print("\ntarget: the full run in < 10 s, >= 10x faster than MLflow")


if __name__ == "__main__":
    main()
