"""The `lossgap` Typer application, its global options and what every command shares.

Settings, server, database and analysis modules are imported inside the commands that use them,
so `lossgap diagnose` starts fast."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from app.config import Settings


def load_settings() -> tuple["Settings", Callable[["Settings"], None]]:
    from app.config import get_settings
    from app.system.logging import configure_logging

    return get_settings(), configure_logging


def configured() -> "Settings":
    settings, configure_logging = load_settings()
    configure_logging(settings)
    return settings


cli = typer.Typer(
    help="lossgap: why your training and validation losses look the way they do.",
    no_args_is_help=True,
)
FAIL_EXIT = 3  # `diagnose --fail-on` found what it was told to fail on (2 is a usage error)
DEFAULT_FAIL_CONFIDENCE = 0.5
JOB_POLL_SECONDS = 0.5


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        from app.analysis.diagnose import ENGINE_VERSION

        typer.echo(f"lossgap {version('lossgap')} (engine {ENGINE_VERSION})")
        raise typer.Exit()


@cli.callback()
def _main(
    _: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """lossgap: why your training and validation losses look the way they do."""


db = typer.Typer(help="Manage the database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db, name="db")
