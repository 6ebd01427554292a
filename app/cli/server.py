"""Run the service: the API (with its embedded worker), a queue worker, schema migrations."""

import os
from typing import Annotated

import typer

from app.cli.root import cli, configured, db, load_settings


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
    import uvicorn

    from app.db import migrate
    from app.system.protocol import DeadlineProtocol

    settings = configured()
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
            http=DeadlineProtocol,
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

    settings, configure_logging = load_settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    configure_logging(settings)
    run_worker(settings, queue, HANDLERS)


@db.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema to REVISION (default: the latest)."""
    from app.db import migrate

    settings = configured()
    migrate.upgrade(settings, revision)


@db.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. -1 or base")]) -> None:
    """Downgrade the schema to REVISION."""
    from app.db import migrate

    settings = configured()
    migrate.downgrade(settings, revision)


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the latest one."""
    from app.db import migrate
    from app.db.engine import make_engine

    settings, _ = load_settings()
    engine = make_engine(settings)
    try:
        typer.echo(f"database: {migrate.current_revision(engine)}")
        typer.echo(f"latest:   {migrate.head_revision(settings)}")
    finally:
        engine.dispose()
