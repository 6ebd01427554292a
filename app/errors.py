"""Domain errors and the one place that turns any failure into the contract's JSON error shape.

Services raise `AppError` subclasses that carry their HTTP status and machine code; they never
know about HTTP beyond that. Request validation errors are rewritten so the message names the
offending field (`epochs[3].val_loss`), and anything unexpected becomes a 500 with the request id
so the log line can be found.
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.responses import JSONResponse

log = logging.getLogger("lossgap.errors")
SQLITE_BUSY = "database is locked"
BUSY_RETRY_SECONDS = 1


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers
        self.details = details or {}  # extra members of the error object, for programs


class InvalidInput(AppError):
    status_code = 422
    code = "invalid_input"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class LimitExceeded(AppError):
    status_code = 413
    code = "too_large"


class InvalidArtifact(AppError):
    status_code = 422
    code = "invalid_artifact"


class UnsafeArtifact(AppError):
    """A file that could only be read by unpickling it: refused, never loaded."""

    status_code = 422
    code = "unsafe_artifact"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    """The key is valid but may not do this (write to another team's project)."""

    status_code = 403
    code = "forbidden"


class LoginRequired(AppError):
    """A page asked for without the login cookie: the browser is sent to the login form."""

    status_code = 303
    code = "login_required"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "unavailable"


class UpstreamFailed(AppError):
    """A server lossgap fetches from (an MLflow tracking server) failed or could not be reached."""

    status_code = 502
    code = "upstream_error"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", "epochs", 3, "val_loss")` → `epochs[3].val_loss`."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    parts = [
        p
        for i, p in enumerate(parts)
        if not (i and parts[i - 1] == "steps" and p in ("rows", "columns", "streamed"))
    ]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


_STATUS_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def _describe(error: dict[str, Any]) -> str:
    where = field_path(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "json_invalid":
        detail = error.get("ctx", {}).get("error", "")
        return f"The request body is not valid JSON ({detail}); send a JSON object."
    return f"{where}: {error.get('msg', kind)}"


def _is_page(request: Request) -> bool:
    """A browser asking for a page (not the API, the docs or a file) gets its error as a page."""
    path = request.url.path
    api = path.startswith(("/v1/", "/docs", "/redoc", "/openapi", "/static", "/healthz", "/readyz"))
    return not api and "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if _is_page(request):
            from app.pages.router import error_page

            return error_page(request, exc.status_code, exc.message, exc.headers)
        return JSONResponse(
            error_body(exc.code, exc.message, **exc.details),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        status = 400 if any(e.get("type") == "json_invalid" for e in errors) else 422
        shown = errors[:10]
        message = "; ".join(_describe(e) for e in shown)
        if len(errors) > len(shown):
            message += f"; and {len(errors) - len(shown)} more errors"
        if status == 400:
            return JSONResponse(error_body("invalid_json", message), status_code=status)
        fields = [
            {
                "field": field_path(e.get("loc", ())),
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in shown
        ]
        return JSONResponse(error_body("validation_error", message, fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"No route {request.method} {request.url.path}; see /docs for the API."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs."
        return JSONResponse(
            error_body(code, message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    async def _database_error(request: Request, exc: OperationalError) -> JSONResponse:
        """SQLite's write lock not granted within LOSSGAP_SQLITE_BUSY_TIMEOUT_MS is overload,
        not a bug: a 503 the client library retries. Anything else is unexpected."""
        if SQLITE_BUSY not in str(exc.orig):
            return await _unexpected(request, exc)
        log.warning("database busy at %r: %s %s", exc.statement, request.method, request.url.path)
        return JSONResponse(
            error_body(
                "busy",
                "The database is busy with other writes and this request waited too long; "
                "nothing was stored. Retry in a moment.",
            ),
            status_code=503,
            headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = request.scope.get("state", {}).get("request_id", "")
        log.exception("unhandled error", extra={"request_id": request_id})
        return JSONResponse(
            error_body(
                "internal_error",
                "The server failed on this request; it has been logged. "
                f"Quote request id {request_id} when reporting it.",
                request_id=request_id,
            ),
            status_code=500,
            # The server is in an unknown state for this connection: say it will close, so a
            # keep-alive client opens a new one instead of failing its next request on this one.
            headers={"Connection": "close"},
        )
