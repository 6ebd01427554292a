"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn times out idle keep-alive connections but not a client that opens a connection and
sends its headers slowly: a thousand such clients hold a thousand sockets until the process runs
out of file descriptors and `/healthz` fails. Here every connection waiting for a request's
headers is closed after LOSSGAP_HEADER_READ_SECONDS; a request whose headers arrived is not
touched, however long its answer takes. (Bodies have their own deadline: `body_limit.py`.)"""

import asyncio
from typing import Any

from app.config import Settings

try:  # the implementation uvicorn picks by default when httptools is installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
except ImportError:  # pragma: no cover (uvicorn[standard] brings httptools)
    from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]

HEADER_READ_SECONDS = Settings().header_read_seconds  # read once per process


class DeadlineProtocol(Base):
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for_headers():
            if self._deadline is None:
                self._arm()
        elif self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(HEADER_READ_SECONDS, self._expire)

    def _expire(self) -> None:
        self._deadline = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()
