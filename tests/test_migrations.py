"""The schema exists only through Alembic: upgrade from empty, step down, step up again, and the
migrations produce exactly what the models declare."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import app.models  # noqa: F401
from app.db import migrate
from app.db.base import Base
from app.db.engine import make_engine
from tests.conftest import PostgresDatabase, make_settings

TABLES = {
    "runs",
    "epoch_records",
    "step_chunks",
    "artifacts",
    "jobs",
    "diagnoses",
    "probe_reports",
    "api_keys",
}


@pytest.fixture
def empty_settings(backend, tmp_path) -> Iterator:
    database = PostgresDatabase() if backend["name"] == "postgres" else None
    try:
        yield make_settings(backend["name"], tmp_path, database.url if database else None)
    finally:
        if database:
            database.drop()


def tables(settings) -> set[str]:
    engine = make_engine(settings)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def job_columns(settings):
    engine = make_engine(settings)
    try:
        return {c["name"] for c in inspect(engine).get_columns("jobs")}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_settings):
    assert tables(empty_settings) == set()
    migrate.upgrade(empty_settings)
    assert tables(empty_settings) == TABLES
    head = migrate.head_revision(empty_settings)
    migrate.downgrade(empty_settings, "-1")
    engine = make_engine(empty_settings)
    try:
        assert migrate.current_revision(engine) != head
    finally:
        engine.dispose()
    assert tables(empty_settings) == TABLES - {"api_keys"}  # the latest migration's table
    assert "stage" in job_columns(empty_settings)
    migrate.upgrade(empty_settings)
    assert tables(empty_settings) == TABLES


def test_migrations_match_the_models(empty_settings):
    migrate.upgrade(empty_settings)
    engine = make_engine(empty_settings)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_cli_upgrades_reports_and_downgrades(backend, tmp_path):
    import os
    import subprocess
    import sys

    database = PostgresDatabase() if backend["name"] == "postgres" else None
    env = {**os.environ, "LOSSGAP_DATA_DIR": str(tmp_path)}
    if database:
        env["LOSSGAP_DATABASE_URL"] = database.url

    def lossgap(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app", *args],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    try:
        settings = make_settings(backend["name"], tmp_path, database.url if database else None)
        head = migrate.head_revision(settings)
        assert "database: None" in lossgap("db", "current")
        lossgap("db", "upgrade")
        assert f"database: {head}" in lossgap("db", "current")
        assert tables(settings) == TABLES
        lossgap("db", "downgrade", "base")
        assert tables(settings) == set()
    finally:
        if database:
            database.drop()
