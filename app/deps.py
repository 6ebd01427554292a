"""Request-scoped dependencies, as `Annotated` aliases routes can declare."""

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlencode

from anyio import CancelScope, CapacityLimiter, Lock, to_thread
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
FINISHING_THREADS = 64  # transactions ending at once (each one is short)


# Commits and rollbacks run in threads of their own allowance, and on SQLite writing requests
# take turns in the event loop, before any thread is used. Both for one reason: a request that
# holds the write lock needs pool threads to finish (its response is serialized in one, then it
# commits), and when every pool thread was a request blocked waiting for that lock, nothing
# moved until the busy timeout (50 trainers on SQLite in bench/soak.py).


def _app_limits(request: Request) -> tuple[CapacityLimiter, Lock | None]:
    """The app's thread allowance for ending transactions and its SQLite writers' turn, made
    in its event loop on first use."""
    state = request.app.state
    if not hasattr(state, "finishing"):
        state.finishing = CapacityLimiter(FINISHING_THREADS)
        state.write_turn = Lock() if state.settings.is_sqlite else None
    return state.finishing, state.write_turn


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request: committed when the route returns, rolled back when it raises.

    Declared with `scope="function"` so the commit happens before the response is sent: a
    client that sees 201 can rely on the data being stored. The end of the transaction is
    shielded: a client that hangs up cannot leave it, or a connection, open.
    """
    sessions = request.app.state.sessionmaker
    finishing, write_turn = _app_limits(request)
    reading = request.method in READS
    turn = None if reading else write_turn
    if turn is not None:
        await turn.acquire()
    try:
        session: Session = sessions() if reading else writing(sessions)
        try:
            yield session
        except BaseException:
            with CancelScope(shield=True):
                await to_thread.run_sync(_discard, session, limiter=finishing)
            raise
        with CancelScope(shield=True):
            await to_thread.run_sync(_keep, session, limiter=finishing)
    finally:
        if turn is not None:
            turn.release()


def _keep(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _discard(session: Session) -> None:
    try:
        session.rollback()
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
