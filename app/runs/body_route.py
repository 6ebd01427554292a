"""The runs routes read JSON bodies with `app.runs.streamed`, off the event loop.

FastAPI parses a JSON body with `Request.json()`; this route class hands the routes a request
whose `json()` turns step rows into columns as it reads (a body's peak memory stays a small
multiple of its size) and, for any body over 64 KiB, runs in a worker thread, so a large append
never stalls other requests.
Everything else (validation, errors, the OpenAPI schema) is FastAPI's as usual.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from anyio import to_thread
from fastapi import Request, Response
from fastapi.routing import APIRoute

from app.config import Settings
from app.runs import streamed

INLINE_BYTES = 64 * 1024  # smaller bodies parse in microseconds: not worth a thread's round trip


class StreamedRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            settings: Settings = self.app.state.settings
            body = await self.body()
            if len(body) <= INLINE_BYTES:
                self._json = streamed.loads(body, settings.max_metrics_per_row)
            else:
                self._json = await to_thread.run_sync(
                    streamed.loads, body, settings.max_metrics_per_row
                )
        return self._json


class StreamedBodyRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            return await handler(StreamedRequest(request.scope, request.receive))

        return route_handler
