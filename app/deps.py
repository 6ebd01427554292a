"""Request-scoped dependencies, as `Annotated` aliases routes can declare."""

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.engine import writing
from app.errors import LoginRequired, Unauthorized
from app.jobs import service as jobs
from app.jobs.queue import JobQueue
from app.keys.access import Access
from app.runs import service as runs
from app.storage import ArtifactStore
from app.system.key_guard import ACCESS, INVALID, KEY_COOKIE, MISSING

# Dependencies that only read app state are async: FastAPI runs a sync one in the thread pool,
# a hop that costs more than the work under load.


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_store(request: Request) -> ArtifactStore:
    store: ArtifactStore = request.app.state.store
    return store


StoreDep = Annotated[ArtifactStore, Depends(get_store)]


async def get_queue(request: Request) -> JobQueue:
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

_bearer = HTTPBearer(
    auto_error=False,
    description="An admin key (LOSSGAP_API_KEYS) or a project key from `lossgap keys create`, "
    "when the server requires keys.",
)


def _access(request: Request) -> Access | None:
    access: Access | None = request.scope.get("state", {}).get(ACCESS)
    return access


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Access:
    """What the request's key may see. KeyGuardMiddleware recognised the key before the body
    was read and already answered 401 without one; this declares the security scheme."""
    access = _access(request)
    if access is None:
        raise Unauthorized(
            INVALID if credentials or request.cookies.get(KEY_COOKIE) else MISSING,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return access


AccessDep = Annotated[Access, Depends(require_api_key)]


async def require_page_key(request: Request) -> Access:
    """Pages need a key when the server asks for keys; without one, the login form."""
    access = _access(request)
    if access is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(
            "Log in with an API key to see the runs.",
            headers={"Location": f"/login?{urlencode({'next': target})}"},
        )
    return access


PageAccessDep = Annotated[Access, Depends(require_page_key)]


# The visibility checks are async so that an admin request (every request on a server without
# keys) costs no trip to the thread pool; a project key's check queries the database there.


async def visible_run(run_id: str, session: SessionDep, access: AccessDep) -> None:
    """For routes under /runs/{run_id}: another project's run is a 404, like a missing one."""
    if not access.admin:
        await run_in_threadpool(runs.check_visible, session, access, run_id)


async def visible_page_run(run_id: str, session: SessionDep, access: PageAccessDep) -> None:
    if not access.admin:
        await run_in_threadpool(runs.check_visible, session, access, run_id)


async def visible_job(job_id: str, session: SessionDep, access: AccessDep) -> None:
    if not access.admin:
        await run_in_threadpool(jobs.check_visible, session, access, job_id)
