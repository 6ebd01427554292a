"""When keys are required, every request's key is recognised here, once, before its body is read.

An unauthenticated client therefore cannot make the service buffer or parse a large upload. What
the key may see (`Access`) is put on the request's state for the routes; a `/v1` request (and,
with LOSSGAP_PROTECT_DOCS, the schema, the API pages and /metrics) without a valid key is answered
401 here. Pages do their own check, since theirs is a redirect to the login form.
"""

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import error_body
from app.keys.access import EVERYTHING, Access
from app.keys.service import configured_key, resolve
from app.responses import JSONResponse

API = ("/v1/",)
DOCS = ("/docs", "/redoc", "/openapi.json", "/metrics", "/docs-assets/")
KEY_COOKIE = "lossgap_key"  # set by the pages' login form: HttpOnly, SameSite=Strict
MISSING = "This server requires an API key: send `Authorization: Bearer <key>`."
INVALID = "The API key is not valid for this server (unknown or revoked)."
ACCESS = "access"  # the request state's member holding the key's Access (None: no valid key)
OPEN = ("/static/", "/healthz", "/readyz")  # never need a key: none is looked up


def given_key(scope: Scope) -> str | None:
    """The bearer key, or else the pages' login cookie."""
    headers: dict[bytes, bytes] = dict(scope.get("headers", []))
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization.lower().startswith("bearer "):
        return str(authorization[len("bearer ") :].strip())
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == KEY_COOKIE:
            return str(value)
    return None


def recognise(sessions: sessionmaker[Session], settings: Settings, given: str) -> Access | None:
    with sessions() as session:
        return resolve(session, settings, given)


class KeyGuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.guarded = API + (DOCS if settings.protect_docs else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(OPEN):
            await self.app(scope, receive, send)
            return
        given = given_key(scope) if self.settings.keys_required else None
        access = await self._access(scope, given)
        scope.setdefault("state", {})[ACCESS] = access
        if access is None and scope["path"].startswith(self.guarded):
            response = JSONResponse(
                error_body("unauthorized", MISSING if given is None else INVALID),
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _access(self, scope: Scope, given: str | None) -> Access | None:
        if not self.settings.keys_required:
            return EVERYTHING
        if not given:
            return None
        if configured_key(self.settings, given):  # no database needed for an admin key
            return EVERYTHING
        sessions = scope["app"].state.sessionmaker
        return await to_thread.run_sync(recognise, sessions, self.settings, given)
