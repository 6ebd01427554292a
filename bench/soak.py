"""Many trainers at once: does anything fail, get lost or slow down?

    PYTHONPATH=. .venv/bin/python bench/soak.py [--trainers 50] [--seconds 600]
        [--backend sqlite|postgres]

Starts `lossgap serve` (SQLite: one process with its embedded worker; Postgres: two API
processes on a fresh database) and runs, in threads: N trainers each creating a run and
appending an epoch row plus 20 step rows every second; N/5 readers reading a random run's
diagnosis; and one importer uploading a Keras CSV every 2 s. It prints the requests made, the
errors by status, p50/p99 latency per kind, and rows lost (rows each trainer was told were
stored, compared with what the run holds at the end). Target: 0 errors and 0 rows lost on
both backends; p99 append < 100 ms on Postgres.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
KERAS = ROOT / "tests/fixtures/realworld/keras_csvlogger/speaker250.training.log"
STEPS_PER_EPOCH = 20


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[tuple[str, int]] = Counter()

    def record(self, kind: str, started: float, status: int) -> None:
        with self.lock:
            self.latency[kind].append(time.perf_counter() - started)
            self.statuses[(kind, status)] += 1


def timed(
    tally: Tally, kind: str, client: httpx.Client, method: str, path: str, **options: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = client.request(method, path, **options)
    except httpx.HTTPError:
        tally.record(kind, started, 0)
        return None
    tally.record(kind, started, response.status_code)
    return response


def trainer(url: str, stop: threading.Event, tally: Tally, sent: dict[str, int]) -> None:
    # Trainers start at random moments within a second, as independent jobs do; started in
    # lockstep, all N would append in the same instant every second and measure only the queue.
    if stop.wait(random.uniform(0, 1)):
        return
    with httpx.Client(base_url=url, timeout=30) as client:
        body = {"name": "soak", "epochs": [{"epoch": 1, "train_loss": 2.0, "val_loss": 2.1}]}
        created = timed(tally, "create", client, "POST", "/v1/runs", json=body)
        if created is None or created.status_code != 201:
            return
        run_id = created.json()["id"]
        sent[run_id] = 1
        epoch = 2
        while not stop.wait(1.0):
            steps = {
                "step": [epoch * STEPS_PER_EPOCH + i for i in range(STEPS_PER_EPOCH)],
                "epoch": [epoch - 1 + i / STEPS_PER_EPOCH for i in range(STEPS_PER_EPOCH)],
                "train_loss": [2.0 / epoch] * STEPS_PER_EPOCH,
            }
            row = {"epoch": epoch, "train_loss": 2.0 / epoch, "val_loss": 2.1 / epoch}
            payload = {"epochs": [row], "steps": steps}
            answer = timed(
                tally, "append", client, "POST", f"/v1/runs/{run_id}/epochs", json=payload
            )
            if answer is not None and answer.status_code == 200:
                sent[run_id] += 1  # epoch rows the server said it stored
            epoch += 1


def reader(url: str, stop: threading.Event, tally: Tally, sent: dict[str, int]) -> None:
    if stop.wait(random.uniform(0, 1)):
        return
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.wait(0.5):
            if sent:
                run_id = random.choice(list(sent))
                timed(tally, "diagnosis", client, "GET", f"/v1/runs/{run_id}/diagnosis")


def importer(url: str, stop: threading.Event, tally: Tally) -> None:
    content = KERAS.read_bytes()
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.wait(2.0):
            files = {"file": (KERAS.name, content)}
            timed(tally, "import", client, "POST", "/v1/imports", files=files)


def serve(
    backend: str, data_dir: Path, port: int, processes: int
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    env = {
        **os.environ,
        "LOSSGAP_DATA_DIR": str(data_dir),
        "LOSSGAP_LOG_LEVEL": os.environ.get("SOAK_LOG_LEVEL", "WARNING"),
    }
    args = ["serve", "--port", str(port)]
    if backend == "postgres":
        from sqlalchemy import create_engine, text

        name = f"lossgap_soak_{int(time.time())}"
        admin = os.environ.get(
            "LOSSGAP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        with create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        env["LOSSGAP_DATABASE_URL"] = admin.rsplit("/", 1)[0] + f"/{name}"
        subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], env=env, check=True)
        args += ["--workers", str(processes)]
    process = subprocess.Popen([sys.executable, "-m", "app", *args], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, env
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not start")


def drop(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    admin, _, name = database_url.rpartition("/")
    with create_engine(f"{admin}/postgres", isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(options: argparse.Namespace, url: str) -> tuple[Tally, int]:
    """The load itself; then the epoch rows each trainer was told were stored, compared with
    what its run holds (a run the server cannot answer for in 5 minutes counts them all lost)."""
    tally, stop, sent = Tally(), threading.Event(), {}
    threads = [
        *(
            threading.Thread(target=trainer, args=(url, stop, tally, sent))
            for _ in range(options.trainers)
        ),
        *(
            threading.Thread(target=reader, args=(url, stop, tally, sent))
            for _ in range(
                max(1, options.trainers // 5) if options.readers is None else options.readers
            )
        ),
        threading.Thread(target=importer, args=(url, stop, tally)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(options.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    lost = 0
    with httpx.Client(base_url=url, timeout=300) as client:
        for run_id, stored in sent.items():
            try:
                answer = client.get(f"/v1/runs/{run_id}", params={"include_steps": "false"})
                lost += max(0, stored - answer.json()["epoch_count"])
            except (httpx.HTTPError, KeyError, ValueError):
                lost += stored
    return tally, lost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--readers", type=int, default=None, help="Diagnosis readers; default: trainers / 5."
    )
    parser.add_argument(
        "--processes", type=int, default=2, help="API processes on Postgres (SQLite: always 1)."
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, env = serve(options.backend, Path(tmp), options.port, options.processes)
        try:
            tally, lost = run(options, f"http://127.0.0.1:{options.port}")
        finally:
            process.terminate()
            process.wait(timeout=60)
            if options.backend == "postgres":
                drop(env["LOSSGAP_DATABASE_URL"])
    total = sum(tally.statuses.values())
    errors = {
        f"{kind} {status}": n
        for (kind, status), n in tally.statuses.items()
        if status >= 400 or status == 0
    }
    processes = options.processes if options.backend == "postgres" else 1
    print(
        f"backend {options.backend} ({processes} API processes), {options.trainers} trainers, "
        f"{options.seconds:g} s"
    )
    print(f"requests {total}, errors {sum(errors.values())} {errors or ''}, epoch rows lost {lost}")
    print(f"{'kind':10} {'n':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, values in sorted(tally.latency.items()):
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(
            f"{kind:10} {len(values):7d} {statistics.median(values) * 1000:8.1f} {p99 * 1000:8.1f}"
        )


if __name__ == "__main__":
    main()
