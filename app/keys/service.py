"""Creating, listing, revoking and recognising API keys. Knows the database, not HTTP."""

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.types import utcnow
from app.errors import InvalidInput, NotFound
from app.keys.access import EVERYTHING, Access
from app.models import ApiKey

KEY_PREFIX = "lgk_"
SECRET_BYTES = 32
SHOWN_CHARS = 12  # of the key, kept in clear to tell keys apart in `keys list`
MAX_PROJECT_CHARS = 200  # the width of runs.project


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, projects: Sequence[str] | None) -> NewKey:
    """A new key for `projects`, or for every project (an admin key) when it is None."""
    if projects is not None:
        projects = sorted({p.strip() for p in projects})
        if not projects or any(not p or len(p) > MAX_PROJECT_CHARS for p in projects):
            raise InvalidInput(
                f"Name at least one project, each 1-{MAX_PROJECT_CHARS} characters, "
                "or make an admin key."
            )
    secret = KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey(
        id=str(uuid.uuid4()),
        name=name,
        prefix=secret[:SHOWN_CHARS],
        secret_hash=digest(secret),
        projects=projects,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    return NewKey(key, secret)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(session: Session, key_id_or_prefix: str) -> ApiKey:
    """Revoke by id or by the prefix `keys list` shows; an ambiguous prefix is refused."""
    matches = list(
        session.scalars(
            select(ApiKey).where(
                or_(ApiKey.id == key_id_or_prefix, ApiKey.prefix == key_id_or_prefix)
            )
        )
    )
    if not matches:
        raise NotFound(f"No key {key_id_or_prefix!r}: `lossgap keys list` shows the ids.")
    if len(matches) > 1:
        raise InvalidInput(f"{key_id_or_prefix!r} names several keys: give the key's id.")
    key = matches[0]
    if key.revoked_at is None:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(revoked_at=utcnow()))
        session.refresh(key)
    return key


def configured_key(settings: Settings, given: str) -> bool:
    """Whether `given` is one of LOSSGAP_API_KEYS (compared in constant time)."""
    return any(secrets.compare_digest(given.encode(), key.encode()) for key in settings.api_keys)


def resolve(session: Session, settings: Settings, given: str | None) -> Access | None:
    """What the key `given` may see, or None when it is no key of this server."""
    if not given:
        return None
    if configured_key(settings, given):
        return EVERYTHING
    if not given.startswith(KEY_PREFIX):
        return None
    key = session.scalar(
        select(ApiKey).where(ApiKey.secret_hash == digest(given), ApiKey.revoked_at.is_(None))
    )
    if key is None:
        return None
    projects = None if key.projects is None else frozenset(key.projects)
    return Access(projects=projects, key_id=key.id)
