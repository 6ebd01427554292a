"""Fixtures that run the suite against real databases.

Every API test runs once on SQLite and once on Postgres (`LOSSGAP_TEST_BACKENDS`, default both).
Postgres gets a fresh database per test session, created from LOSSGAP_TEST_POSTGRES_URL's server
and dropped at the end. Tables are emptied after each test, so tests never see each other's runs.

On a machine without PostgreSQL or Redis the tests that need them are skipped and the run ends
with one line saying so; with LOSSGAP_TEST_REQUIRE_BACKENDS=1 (CI) a missing one fails the run.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.main import create_app

POSTGRES_ADMIN_URL = os.environ.get(
    "LOSSGAP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LOSSGAP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_BACKENDS = os.environ.get("LOSSGAP_TEST_REQUIRE_BACKENDS") == "1"
PROBE_SECONDS = 2


def _unreachable() -> dict[str, str]:
    """The servers the suite cannot reach, and why."""
    missing = {}
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": PROBE_SECONDS})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any driver error means the same: no server to test on
        missing["postgres"] = (
            f"{make_url(POSTGRES_ADMIN_URL).render_as_string()}: {type(exc).__name__}"
        )
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        missing["chromium"] = "no chromium on PATH (apt-get install chromium)"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=PROBE_SECONDS).ping()
    except Exception as exc:
        missing["redis"] = f"{REDIS_URL}: {type(exc).__name__}"
    return missing


MISSING = _unreachable()
BACKENDS = [
    b
    for b in os.environ.get("LOSSGAP_TEST_BACKENDS", "sqlite,postgres").split(",")
    if b and b not in MISSING
]


def needs(service: str) -> None:
    """Skip the calling test when `service` (postgres, redis, chromium) is not reachable."""
    if service in MISSING:
        pytest.skip(f"no {service} server ({MISSING[service]})")


def redis_url() -> str:
    needs("redis")
    return REDIS_URL


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_BACKENDS and MISSING:
        raise pytest.UsageError(
            "LOSSGAP_TEST_REQUIRE_BACKENDS=1 but these servers are unreachable: "
            + "; ".join(f"{name} ({why})" for name, why in MISSING.items())
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    """After the counts: the last line of the run."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if MISSING and reporter is not None and not REQUIRE_BACKENDS:
        reporter.write_line(
            f"backends skipped: {', '.join(MISSING)} (unavailable). Start them (see "
            "docs/development.md) or point LOSSGAP_TEST_POSTGRES_URL / LOSSGAP_TEST_REDIS_URL "
            "at yours; CI sets LOSSGAP_TEST_REQUIRE_BACKENDS=1 and fails instead.",
            yellow=True,
            bold=True,
        )


TABLES = [
    "api_keys",
    "probe_reports",
    "diagnoses",
    "jobs",
    "artifacts",
    "step_chunks",
    "epoch_records",
    "runs",
]


class PostgresDatabase:
    """A throwaway database on the test server."""

    def __init__(self) -> None:
        needs("postgres")
        self.name = f"lossgap_test_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = (
            make_url(POSTGRES_ADMIN_URL)
            .set(database=self.name)
            .render_as_string(hide_password=False)
        )

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def make_settings(
    backend: str, tmp: Path, database_url: str | None = None, **extra: Any
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp,
        database_url=database_url if backend == "postgres" else None,
        # The tests' MLflow server listens on loopback, which the service calls only when listed.
        **{"auto_migrate": True, "mlflow_allowed_hosts": ["127.0.0.1"], **extra},
    )


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "postgres":
        database = PostgresDatabase()
        try:
            yield {"name": "postgres", "tmp": tmp, "url": database.url}
        finally:
            database.drop()
    else:
        yield {"name": "sqlite", "tmp": tmp, "url": None}


@pytest.fixture(scope="session")
def settings(backend: dict[str, Any]) -> Settings:
    return make_settings(backend["name"], backend["tmp"], backend["url"])


@pytest.fixture(scope="session")
def _session_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def empty_tables(client: TestClient) -> None:
    with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        for table in TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def client(_session_client: TestClient) -> Iterator[TestClient]:
    yield _session_client
    empty_tables(_session_client)


def post_json(client: TestClient | httpx.Client, url: str, body: Any) -> httpx.Response:
    """POST with Python's JSON encoder, which writes NaN and Infinity like training scripts do."""
    return client.post(url, content=json.dumps(body), headers={"content-type": "application/json"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`lossgap serve` in a subprocess, as a user would start it."""

    def __init__(
        self, env: dict[str, str], args: list[str] | None = None, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = spawn(["serve", "--port", str(self.port), *(args or [])], env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {output(self.process)}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become ready in 60 s")

    def stop(self) -> str:
        return stop(self.process)


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """`python -m app ARGS` with its output in a file: a pipe nobody reads fills up and blocks
    the process on its next log line."""
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (lives as long as the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def lossgap(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` run to its end, as a user types it; tables wide enough to read."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


def output(process: subprocess.Popen[str]) -> str:
    log = process.log  # type: ignore[attr-defined]
    log.seek(0)
    return str(log.read())


def stop(process: subprocess.Popen[str]) -> str:
    """Terminate (SIGTERM, then SIGKILL after 60 s) and return everything it printed."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return output(process)


def server_env(backend: dict[str, Any], data_dir: Path) -> dict[str, str]:
    env = {
        "LOSSGAP_DATA_DIR": str(data_dir),
        "LOSSGAP_LOG_FORMAT": "json",
        "LOSSGAP_MLFLOW_ALLOWED_HOSTS": "127.0.0.1",
    }
    if backend["url"]:
        env["LOSSGAP_DATABASE_URL"] = backend["url"]
        env["LOSSGAP_AUTO_MIGRATE"] = "true"
    return env


@pytest.fixture
def live_server(backend: dict[str, Any], tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(server_env(backend, tmp_path))
    try:
        yield server
    finally:
        server.stop()
        wipe(backend)


def wipe(backend: dict[str, Any]) -> None:
    """Empty the shared Postgres test database after a test that wrote to it from outside."""
    if backend["url"]:
        engine = create_engine(backend["url"])
        with engine.begin() as conn:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from the distribution's packages, driven by Playwright."""
    needs("chromium")
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            launched.close()
