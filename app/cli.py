"""The `lossgap` command: serve the API, run a worker, manage the schema."""

import json
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from app.config import get_settings
from app.db import migrate
from app.system.logging import configure_logging

cli = typer.Typer(
    help="lossgap: why your training and validation losses look the way they do.",
    no_args_is_help=True,
)
db = typer.Typer(help="Manage the database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db, name="db")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (Postgres for more than one).")] = 1,
    embedded_worker: Annotated[
        bool | None,
        typer.Option(help="Run jobs in this process too; default: on with the embedded queue."),
    ] = None,
) -> None:
    """Serve the API (Swagger UI at /docs). On the embedded default the schema is upgraded first."""
    settings = get_settings()
    configure_logging(settings)
    if settings.should_auto_migrate:
        migrate.upgrade(settings)
    # Migrated once here; the server processes must not race to do it again.
    os.environ["LOSSGAP_AUTO_MIGRATE"] = "false"
    consumer = None
    if settings.queue_url is None if embedded_worker is None else embedded_worker:
        from workers import consumer as consumers  # the API package itself never imports workers
        from workers.handlers import HANDLERS

        runner = consumers.build(settings, "default", HANDLERS)
        runner.reap()
        consumer = consumers.consumer(runner, settings.worker_concurrency, embedded=True)
        consumer.start()
        reaper = consumers.Reaper(runner)
        reaper.start()
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        )
    finally:
        if consumer is not None:
            reaper.stop()
            consumer.stop(graceful=True)


@cli.command()
def worker(
    queue: Annotated[str, typer.Option(help="Queue to consume (e.g. gpu).")] = "default",
    concurrency: Annotated[int | None, typer.Option(help="Jobs run at once.")] = None,
) -> None:
    """Consume jobs from LOSSGAP_QUEUE_URL (thread workers; several may share one queue)."""
    from workers.consumer import run_worker
    from workers.handlers import HANDLERS

    settings = get_settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    configure_logging(settings)
    run_worker(settings, queue, HANDLERS)


@cli.command()
def diagnose(
    file: Annotated[Path, typer.Argument(help="A run as JSON (the body of POST /v1/runs).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """Diagnose a loss history locally, without a server."""
    from app import analysis
    from app.analysis.document import history_from_document
    from app.responses import dumps

    try:
        document = json.loads(file.read_text())
        history = history_from_document(document)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        typer.echo(f"cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    result = analysis.diagnose(history).to_dict()
    if as_json:
        typer.echo(
            dumps(
                {"status": "complete", "engine_version": analysis.engine_version(), **result}
            ).decode()
        )
        return
    typer.echo(result["summary"])
    typer.echo("")
    for cause in result["causes"]:
        typer.echo(f"  {cause['confidence']:5.0%}  {cause['kind']:<8} {cause['title']}")
        for action in cause["actions"]:
            typer.echo(f"{'':17}→ {action}")
    typer.echo("")
    for check in result["checks"]:
        typer.echo(f"  [{check['status']:<7}] {check['id']}: {check['detail']}")


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
