"""The `lossgap` command: serve the API, run a worker, manage the schema."""

import os
from typing import Annotated

import typer
import uvicorn

from app.config import get_settings
from app.db import migrate
from app.system.logging import configure_logging

cli = typer.Typer(help="lossgap: why your training and validation losses look the way they do.",
                  no_args_is_help=True)
db = typer.Typer(help="Manage the database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db, name="db")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (Postgres for more than one).")] = 1,
) -> None:
    """Serve the API (Swagger UI at /docs). On the embedded default the schema is upgraded first."""
    settings = get_settings()
    configure_logging(settings)
    if settings.should_auto_migrate:
        migrate.upgrade(settings)
    # Migrated once here; the server processes must not race to do it again.
    os.environ["LOSSGAP_AUTO_MIGRATE"] = "false"
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )


@db.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema to REVISION (default: the latest)."""
    settings = get_settings()
    configure_logging(settings)
    migrate.upgrade(settings, revision)


@db.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. -1 or base")]) -> None:
    """Downgrade the schema to REVISION."""
    settings = get_settings()
    configure_logging(settings)
    migrate.downgrade(settings, revision)


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the latest one."""
    from app.db.engine import make_engine

    settings = get_settings()
    engine = make_engine(settings)
    try:
        typer.echo(f"database: {migrate.current_revision(engine)}")
        typer.echo(f"latest:   {migrate.head_revision(settings)}")
    finally:
        engine.dispose()


def main() -> None:
    cli()
