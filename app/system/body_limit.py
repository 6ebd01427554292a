"""Refuse request bodies over LOSSGAP_MAX_BODY_BYTES before they are buffered, and bodies that
stop arriving (nothing for LOSSGAP_BODY_READ_SECONDS: 408).

Starlette ships a body-limit middleware, but it answers in plain text; this one keeps the API's
JSON error shape. Artifact uploads (multipart files) get the larger upload limit instead. A
declared Content-Length over the limit is refused before anything is read; a streamed (chunked)
body is counted as it arrives and refused the moment it passes the limit.
"""

import asyncio

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_body
from app.responses import JSONResponse

TOO_LARGE = (
    "The request body is larger than this server accepts (LOSSGAP_MAX_BODY_BYTES={limit}); "
    "send the history in several appends (POST /v1/runs/{{id}}/epochs)."
)

TOO_SLOW = (
    "The request body stopped arriving (nothing for LOSSGAP_BODY_READ_SECONDS); send it again."
)

UPLOAD_TOO_LARGE = (
    "The upload is larger than this server accepts ({limit} bytes: LOSSGAP_MAX_MODEL_BYTES / "
    "LOSSGAP_MAX_DATA_BYTES); subsample the data or ask the operator to raise the limit."
)


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, upload_bytes: int, read_seconds: float = 60.0
    ) -> None:
        self.app = app
        self.json_limit = max_body_bytes
        self.upload_limit = upload_bytes
        self.read_seconds = read_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"].endswith("/artifacts")
        limit = self.upload_limit if upload else self.json_limit
        message = (UPLOAD_TOO_LARGE if upload else TOO_LARGE).format(limit=limit)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = JSONResponse(error_body("too_large", message), status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            try:
                event = await asyncio.wait_for(receive(), self.read_seconds)
            except TimeoutError as exc:
                raise HTTPException(status_code=408, detail=TOO_SLOW) from exc
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > limit:
                    raise HTTPException(status_code=413, detail=message)
            return event

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
