"""INSERT … ON CONFLICT for whichever backend the session is bound to (SQLite or Postgres)."""

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def upsert(session: Session, model: Any, keys: list[str], update: list[str]) -> Any:
    """A statement inserting rows of `model` that replaces `update` columns on a `keys` clash."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = insert(model)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in update}
    )
