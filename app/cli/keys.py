"""`lossgap keys`: make, list and revoke the API keys a server with keys required accepts.

Keys are written to the server's database (LOSSGAP_DATABASE_URL, or the embedded SQLite file in
LOSSGAP_DATA_DIR), so these commands run where the server's settings are. A new key is printed
once, on stdout alone (`KEY=$(lossgap keys create --project vision)`); only its hash is kept.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.root import cli, configured

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

keys = typer.Typer(
    help="API keys bound to projects (LOSSGAP_REQUIRE_KEYS=1 makes the server ask for one).",
    no_args_is_help=True,
)
cli.add_typer(keys, name="keys")


@contextmanager
def _session() -> Iterator["Session"]:
    """A committed session on the server's database, its schema upgraded when that is the
    default (SQLite) and checked otherwise."""
    from app.db import migrate
    from app.db.engine import make_engine, make_sessionmaker, writing
    from app.errors import AppError

    settings = configured()
    if settings.should_auto_migrate:
        migrate.upgrade(settings)
    engine = make_engine(settings)
    try:
        current, head = migrate.current_revision(engine), migrate.head_revision(settings)
        if current != head:
            typer.echo(
                f"error: the database schema is at {current}, not {head}; run "
                "`lossgap db upgrade` first.",
                err=True,
            )
            raise typer.Exit(1)
        session = writing(make_sessionmaker(engine))
        try:
            yield session
            session.commit()
        except AppError as exc:
            session.rollback()
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from exc
        finally:
            session.close()
    finally:
        engine.dispose()


@keys.command("create")
def create(
    project: Annotated[
        list[str] | None,
        typer.Option("--project", "-p", help="A project the key sees (repeat for several)."),
    ] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="A key for every project, present and future.")
    ] = False,
    name: Annotated[str, typer.Option(help="What the key is for, shown by `keys list`.")] = "",
) -> None:
    """Make a key for one or more projects (or, with --admin, all) and print it once."""
    from app.keys import service

    if admin == bool(project):
        typer.echo(
            "error: give --project NAME (repeatable) or --admin: exactly one of them.", err=True
        )
        raise typer.Exit(2)
    with _session() as session:
        made = service.create_key(session, name or ",".join(project or ["admin"]), project)
    scope = "every project" if made.key.projects is None else ", ".join(made.key.projects)
    typer.echo(f"key {made.key.id} for {scope}; it is shown only now:", err=True)
    typer.echo(made.secret)


@keys.command("list")
def list_() -> None:
    """The keys: id, shown prefix, projects, name, created, and revoked when it was."""
    from app.keys import service

    with _session() as session:
        rows = service.list_keys(session)
    if not rows:
        typer.echo("no keys; make one with `lossgap keys create --project NAME`", err=True)
    for key in rows:
        projects = "*" if key.projects is None else ",".join(key.projects)
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        created = f"{key.created_at:%Y-%m-%d %H:%M}"
        typer.echo("\t".join([key.id, key.prefix + "…", projects, key.name, created, revoked]))


@keys.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key's id, or the prefix `keys list` shows.")],
) -> None:
    """Revoke a key: the server refuses it from its next request on."""
    from app.keys import service

    with _session() as session:
        revoked = service.revoke_key(session, key.rstrip("…"))
    typer.echo(f"revoked key {revoked.id} ({revoked.name})")
