"""Refuse URLs carrying a NUL character (`%00` in a path or a query) with a 400.

No id, name or filter contains one, and Postgres text cannot hold one: left through, a `%00`
in a run id or `?name=%00` reached the database and came back as a 500."""

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import error_body
from app.responses import JSONResponse

MESSAGE = "The URL contains a NUL character (%00); ids, names and filters never do."


class UrlGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            response = JSONResponse(error_body("bad_request", MESSAGE), status_code=400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
