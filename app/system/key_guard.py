"""With LOSSGAP_API_KEYS set, a `/v1` request without a valid key is answered 401 before its
body is read: an unauthenticated client cannot make the service buffer or parse a large upload
(the route dependency then checks the same key again, for the OpenAPI security scheme). With
LOSSGAP_PROTECT_DOCS the schema, the API pages and /metrics need a key too."""

from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.deps import KEY_COOKIE, valid_key
from app.errors import error_body
from app.responses import JSONResponse

API = ("/v1/",)
DOCS = ("/docs", "/redoc", "/openapi.json", "/metrics", "/docs-assets/")
MISSING = "This server requires an API key: send `Authorization: Bearer <key>`."
INVALID = "The API key is not valid for this server."


def _given(scope: Scope) -> str | None:
    headers: dict[bytes, bytes] = dict(scope.get("headers", []))
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization.lower().startswith("bearer "):
        return str(authorization[len("bearer ") :].strip())
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == KEY_COOKIE:
            return str(value)
    return None


class KeyGuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.guarded = API + (DOCS if settings.protect_docs else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.settings.api_keys
            or not scope["path"].startswith(self.guarded)
        ):
            await self.app(scope, receive, send)
            return
        given = _given(scope)
        if valid_key(self.settings, given):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            error_body("unauthorized", MISSING if given is None else INVALID),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)
