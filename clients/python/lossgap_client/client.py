"""Report a run's curves to lossgap without ever slowing or breaking the training loop.

`log_epoch`/`log_steps` only append to an in-memory buffer. A background thread sends the
buffer every `flush_interval` seconds; a failed send (server down, 5xx, 429, network error) is
retried with exponential backoff, and what is pending is written to a spool directory, so rows
survive a crash or a server that is down past the end of training: the next `Client` on the same
spool sends them. Sends are idempotent: the run's id is chosen here (a create that is retried
appends instead of duplicating) and epoch and step numbers replace stored ones.

A server that cannot be reached at all (refused, or no answer to connect within
CONNECT_TIMEOUT) is not waited for: `flush` and `close` spool what is pending and return, so
leaving a run with the server down costs a training script well under two seconds. A server
that answers with a retryable error is retried with backoff until the caller's timeout.
"""

import json
import logging
import math
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lossgap_client.probe_report import ProbeReport

log = logging.getLogger("lossgap_client")
RETRYABLE = {408, 425, 429, 500, 502, 503, 504}
CONNECT_TIMEOUT = 2.0  # seconds to open a connection; the read timeout is the client's
FIRST_BACKOFF = 0.5  # seconds before the first retry; doubled up to max_backoff
JOIN_TIMEOUT = 1.0  # seconds `close` waits for the sender thread (a daemon) to finish


def _clean(value: Any) -> Any:
    """NaN and infinities as the JSON tokens the server accepts."""
    if isinstance(value, float) and not math.isfinite(value):
        return value
    if hasattr(value, "item"):  # numpy and torch scalars
        return value.item()
    return value


@dataclass
class _Pending:
    run_id: str
    create: dict[str, Any] | None  # the create body until the server has the run
    epochs: dict[float, dict[str, Any]] = field(default_factory=dict)
    steps: dict[int, dict[str, Any]] = field(default_factory=dict)

    def empty(self) -> bool:
        return not self.epochs and not self.steps

    def sendable(self) -> bool:
        """The API creates a run with its first epoch row: steps alone wait for one."""
        return bool(self.epochs) or (self.create is None and bool(self.steps))


class Run:
    """A run being logged. Every method returns at once; nothing here raises on I/O."""

    def __init__(self, client: "Client", run_id: str) -> None:
        self.client = client
        self.id = run_id

    def log_epoch(self, epoch: float, **metrics: float | None) -> None:
        """One epoch row: `train_loss`, `val_loss` and any other metrics."""
        self.client._add(self.id, epochs=[{"epoch": epoch, **metrics}])

    def log_steps(self, rows: list[dict[str, Any]] | None = None, **row: Any) -> None:
        """Step rows (`step`, optional fractional `epoch`, `train_loss` …): a list or one row."""
        self.client._add(self.id, steps=list(rows or []) + ([row] if row else []))

    def flush(self, timeout: float = 30.0) -> bool:
        return self.client.flush(timeout)

    def diagnosis(self, timeout: float = 30.0) -> dict[str, Any] | None:
        """Send what is pending, then fetch the diagnosis (None when the server is unreachable)."""
        if not self.client.flush(timeout):
            return None
        try:
            response = self.client._http.get(f"/v1/runs/{self.id}/diagnosis")
        except httpx.HTTPError as exc:
            log.warning("lossgap: cannot fetch the diagnosis: %s", exc)
            return None
        return response.json() if response.status_code == 200 else None


class Client:
    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        spool_dir: str | os.PathLike[str] | None = None,
        flush_interval: float = 1.0,
        timeout: float = 10.0,
        max_backoff: float = 30.0,
    ) -> None:
        url = url or os.environ.get("LOSSGAP_URL", "http://127.0.0.1:8000")
        api_key = api_key or os.environ.get("LOSSGAP_API_KEY")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
        )
        default = Path(
            os.environ.get("LOSSGAP_SPOOL", Path.home() / ".cache" / "lossgap" / "spool")
        )
        self.spool = Path(spool_dir) if spool_dir is not None else default
        self.spool.mkdir(parents=True, exist_ok=True)
        self.flush_interval = flush_interval
        self.max_backoff = max_backoff
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._spool_lock = threading.Lock()  # one spool write at a time (flush, close, sender)
        self._unreachable = False  # the last send could not even connect
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._backoff = 0.0
        self._load_spool()
        self._thread = threading.Thread(target=self._loop, name="lossgap-client", daemon=True)
        self._thread.start()

    # ----- public --------------------------------------------------------------------------

    def create_run(
        self,
        name: str,
        task: str = "other",
        config: dict[str, Any] | None = None,
        project: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        """A run whose id is chosen here; the server learns of it with the first rows."""
        run_id = run_id or str(uuid.uuid4())
        create = {"id": run_id, "name": name, "task": task, "config": dict(config or {})}
        if project:
            create["project"] = project
        with self._lock:
            self._pending.setdefault(run_id, _Pending(run_id, create))
        return Run(self, run_id)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything logged so far is sent; False when it could not be (spooled).

        Each attempt is one pass of the sender thread; between attempts it waits the backoff
        (no busy waiting). A server that cannot be reached ends the wait at once."""
        deadline = time.monotonic() + timeout
        delay = FIRST_BACKOFF
        while not self._sent():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._idle.clear()
            self._wake.set()
            self._idle.wait(remaining)
            if self._sent():
                return True
            if self._unreachable:
                break
            self._stopped.wait(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, self.max_backoff)
        else:
            return True
        self._write_spool()
        return False

    def _sent(self) -> bool:
        with self._lock:
            return not any(p.sendable() for p in self._pending.values())

    def post_probe(self, run_id: str, report: ProbeReport, timeout: float = 30.0) -> bool:
        """Store a probe report on the run (sending the run's pending rows first); retried
        with backoff until `timeout`. False when it could not be stored."""
        deadline = time.monotonic() + timeout
        if not self.flush(timeout):
            return False
        delay = 0.25
        while True:
            outcome = self._post(f"/v1/runs/{run_id}/probes", report.model_dump(mode="json"))
            if outcome is not None:
                return outcome
            if time.monotonic() + delay > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    def close(self, timeout: float = 10.0) -> None:
        """Send what is pending (waiting up to `timeout`, not at all when the server cannot be
        reached), spool the rest, stop the thread."""
        self.flush(timeout)
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=JOIN_TIMEOUT)
        self._write_spool()
        if not self._thread.is_alive():  # a send still connecting keeps its HTTP client
            self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- buffering -----------------------------------------------------------------------

    def _add(
        self,
        run_id: str,
        epochs: list[dict[str, Any]] | None = None,
        steps: list[dict[str, Any]] | None = None,
    ) -> None:
        try:
            with self._lock:
                pending = self._pending.setdefault(run_id, _Pending(run_id, None))
                for row in epochs or []:
                    clean = {k: _clean(v) for k, v in row.items()}
                    pending.epochs[float(clean["epoch"])] = clean
                for row in steps or []:
                    clean = {k: _clean(v) for k, v in row.items()}
                    pending.steps[int(clean["step"])] = clean
        except Exception:  # a malformed row must not reach the training loop
            log.exception("lossgap: a logged row was malformed and dropped")

    # ----- sending -------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self._backoff or self.flush_interval)
            self._wake.clear()
            sent_all = self._send_all()
            if sent_all:
                self._backoff = 0.0
            else:
                self._backoff = min(max(self._backoff * 2, FIRST_BACKOFF), self.max_backoff)
                self._write_spool()
            self._idle.set()

    def _take(self, run_id: str) -> tuple[dict[str, Any] | None, list[Any], list[Any]]:
        with self._lock:
            pending = self._pending[run_id]
            epochs = list(pending.epochs.values())
            steps = list(pending.steps.values())
            return pending.create, epochs, steps

    def _send_all(self) -> bool:
        with self._lock:
            run_ids = [r for r, p in self._pending.items() if p.sendable()]
        ok = True
        for run_id in run_ids:
            create, epochs, steps = self._take(run_id)
            if create is not None:
                url, body = "/v1/runs", {**create, "epochs": epochs, "steps": steps}
            else:
                url, body = f"/v1/runs/{run_id}/epochs", {"epochs": epochs, "steps": steps}
            outcome = self._post(url, body)
            if outcome is None:
                ok = False
                continue
            with self._lock:
                pending = self._pending[run_id]
                if outcome:
                    pending.create = None
                for row in epochs:
                    key = float(row["epoch"])
                    if pending.epochs.get(key) is row:
                        del pending.epochs[key]
                for row in steps:
                    key = int(row["step"])
                    if pending.steps.get(key) is row:
                        del pending.steps[key]
            self._forget_spool(run_id)
        return ok

    def _post(self, url: str, body: dict[str, Any]) -> bool | None:
        """True: stored. False: refused for good (logged, dropped). None: retry later."""
        try:
            response = self._http.post(
                url,
                content=json.dumps(body, allow_nan=True),
                headers={"content-type": "application/json"},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._unreachable = True
            log.debug("lossgap: the server cannot be reached, will retry: %s", exc)
            return None
        except httpx.HTTPError as exc:
            self._unreachable = False
            log.debug("lossgap: send failed, will retry: %s", exc)
            return None
        self._unreachable = False
        if response.status_code in RETRYABLE:
            return None
        if response.status_code >= 400:
            log.warning(
                "lossgap: the server refused rows (%s): %s", response.status_code, response.text
            )
            return False
        return True

    # ----- spool ---------------------------------------------------------------------------

    def _write_spool(self) -> None:
        with self._lock:
            snapshot = [
                (
                    p.run_id,
                    {
                        "create": p.create,
                        "epochs": list(p.epochs.values()),
                        "steps": list(p.steps.values()),
                    },
                )
                for p in self._pending.values()
                if not p.empty()
            ]
        with self._spool_lock:
            for run_id, document in snapshot:
                path = self.spool / f"{run_id}.json"
                # A name of its own: another process may be spooling the same run right now.
                tmp = path.with_name(f".{run_id}.{uuid.uuid4().hex}.tmp")
                try:
                    tmp.write_text(json.dumps(document, allow_nan=True))
                    os.replace(tmp, path)
                except OSError as exc:
                    tmp.unlink(missing_ok=True)
                    log.warning("lossgap: cannot spool to %s: %s", path, exc)

    def _forget_spool(self, run_id: str) -> None:
        with self._lock:
            done = self._pending[run_id].empty()
        if done:
            with self._spool_lock:
                (self.spool / f"{run_id}.json").unlink(missing_ok=True)

    def _load_spool(self) -> None:
        for path in sorted(self.spool.glob("*.json")):
            try:
                document = json.loads(path.read_text())
            except (OSError, ValueError):
                log.warning("lossgap: unreadable spool file %s left in place", path)
                continue
            run_id = path.stem
            pending = self._pending.setdefault(run_id, _Pending(run_id, document.get("create")))
            for row in document.get("epochs", []):
                pending.epochs.setdefault(float(row["epoch"]), row)
            for row in document.get("steps", []):
                pending.steps.setdefault(int(row["step"]), row)
