"""Request-scoped dependencies, as `Annotated` aliases routes can declare."""

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Unauthorized
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


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the route returns, rolled back when it raises.

    Declared with `scope="function"` so the commit happens before the response is sent: a
    client that sees 201 can rely on the data being stored.
    """
    session: Session = request.app.state.sessionmaker()
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


def require_api_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if not settings.api_keys:
        return
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise Unauthorized(
            "This server requires an API key: send `Authorization: Bearer <key>`.",
            headers=challenge,
        )
    given = credentials.credentials.encode()
    if not any(secrets.compare_digest(given, key.encode()) for key in settings.api_keys):
        raise Unauthorized("The API key is not valid for this server.", headers=challenge)
