"""Request-scoped dependencies, as `Annotated` aliases routes can declare."""

import secrets
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.engine import writing
from app.errors import LoginRequired, Unauthorized
from app.jobs.queue import JobQueue
from app.storage import ArtifactStore


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_store(request: Request) -> ArtifactStore:
    store: ArtifactStore = request.app.state.store
    return store


StoreDep = Annotated[ArtifactStore, Depends(get_store)]


def get_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue
    return queue


QueueDep = Annotated[JobQueue, Depends(get_queue)]


READS = ("GET", "HEAD", "OPTIONS")  # requests whose writes are at most a cache


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the route returns, rolled back when it raises.

    Declared with `scope="function"` so the commit happens before the response is sent: a
    client that sees 201 can rely on the data being stored.
    """
    sessions = request.app.state.sessionmaker
    session: Session = sessions() if request.method in READS else writing(sessions)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="One of LOSSGAP_API_KEYS, when it is set.")


KEY_COOKIE = "lossgap_key"  # set by the pages' login form: HttpOnly, SameSite=Strict


def valid_key(settings: Settings, given: str | None) -> bool:
    """Whether `given` is one of LOSSGAP_API_KEYS (compared in constant time)."""
    return given is not None and any(
        secrets.compare_digest(given.encode(), key.encode()) for key in settings.api_keys
    )


def require_api_key(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """A bearer key, or the pages' login cookie (which a strict SameSite keeps to this site)."""
    if not settings.api_keys:
        return
    challenge = {"WWW-Authenticate": "Bearer"}
    cookie = request.cookies.get(KEY_COOKIE)
    if credentials is None and cookie is None:
        raise Unauthorized(
            "This server requires an API key: send `Authorization: Bearer <key>`.",
            headers=challenge,
        )
    if not valid_key(settings, credentials.credentials if credentials else cookie):
        raise Unauthorized("The API key is not valid for this server.", headers=challenge)


def require_page_key(request: Request, settings: SettingsDep) -> None:
    """Pages need the login cookie when keys are set; without it, the login form."""
    if settings.api_keys and not valid_key(settings, request.cookies.get(KEY_COOKIE)):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(
            "Log in with an API key to see the runs.",
            headers={"Location": f"/login?{urlencode({'next': target})}"},
        )
