"""Pull a run from an MLflow tracking server over its REST API and parse it like a run folder.

A run is named the ways users copy it: the UI's address
(`http://mlflow:5000/#/experiments/3/runs/<id>`), `runs:/<id>` or a bare run id with the
tracking URI beside it. `runs/get` gives the metric keys and params; `metrics/get-history`
(paged) each series. Transient connection failures are retried by httpx's transport; what the
server answers (no such run, auth refused) comes back as the user's error, upstream trouble as
a 502.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.imports.formats import mlflow
from app.imports.parsed import Parsed

RUN_ID = re.compile(r"[0-9a-f]{32}")
UI_BASE = re.compile(r"https?://[^\s]+")
UI_FRAGMENT = re.compile(r"/experiments/[^/]+/runs/(?P<run>[0-9a-f]{32})")
PAGE = 25_000


class NotARun(ValueError):
    """The text names no MLflow run this module can find."""


class UpstreamError(RuntimeError):
    """The tracking server could not be reached or answered with an error."""

    def __init__(self, message: str, *, user_error: bool = False) -> None:
        super().__init__(message)
        self.user_error = user_error


@dataclass(frozen=True)
class RunRef:
    tracking_uri: str
    run_id: str
    address: str | None = None  # the checked IP to connect to (the server's own fetches)


def reference(text: str, tracking_uri: str | None = None) -> RunRef:
    text = text.strip()
    base, _, fragment = text.partition("#")  # the UI's address: base, then the route after #
    match = UI_FRAGMENT.match(fragment)
    if match and UI_BASE.fullmatch(base.rstrip("/")):
        return RunRef(base.rstrip("/"), match["run"])
    run_id = text.removeprefix("runs:/").split("/")[0]
    if RUN_ID.fullmatch(run_id) and tracking_uri:
        return RunRef(tracking_uri.rstrip("/"), run_id)
    if RUN_ID.fullmatch(run_id):
        raise NotARun(
            f"{text!r} is a run id without a server: give the tracking URI too "
            "(`tracking_uri`, or MLFLOW_TRACKING_URI for the command line)."
        )
    raise NotARun(
        f"{text!r} does not name an MLflow run: give the run's address in the MLflow UI "
        "(http://host:5000/#/experiments/1/runs/<32-hex id>), runs:/<id> or the id, with the "
        "tracking URI."
    )


class Api:
    """The tracking server's REST API: JSON calls under /api/2.0/mlflow and, for artifacts, the
    proxied artifact store under /api/2.0/mlflow-artifacts (`mlflow server --serve-artifacts`)."""

    def __init__(self, ref: RunRef, timeout: float, auth: Mapping[str, str]) -> None:
        headers = {"Authorization": f"Bearer {auth['token']}"} if auth.get("token") else {}
        basic = (auth["username"], auth.get("password", "")) if auth.get("username") else None
        self.ref = ref
        base = f"{ref.tracking_uri}/api/2.0"
        self.extensions: dict[str, Any] = {}
        if ref.address is not None:  # connect to the checked address, name the host as asked
            parts = urlsplit(ref.tracking_uri)
            headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            literal = f"[{ref.address}]" if ":" in ref.address else ref.address
            port = f":{parts.port}" if parts.port else ""
            base = f"{parts.scheme}://{literal}{port}{parts.path.rstrip('/')}/api/2.0"
            self.extensions = {"sni_hostname": parts.hostname}
        self.http = httpx.Client(
            base_url=base,
            headers=headers,
            auth=basic,
            timeout=timeout,
            transport=httpx.HTTPTransport(retries=2),
        )

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._send("GET", f"/mlflow{path}", params=params)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", f"/mlflow{path}", json=body)

    def put_artifact(self, path: str, content: bytes, media_type: str) -> None:
        self._send(
            "PUT",
            f"/mlflow-artifacts/artifacts/{path}",
            content=content,
            headers={"Content-Type": media_type},
        )

    def _send(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.http.request(method, url, extensions=self.extensions, **kwargs)
        except httpx.HTTPError as exc:  # one message for every failure: no port scanning
            raise UpstreamError(
                f"The MLflow server at {self.ref.tracking_uri} could not be reached."
            ) from exc
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body, dict):
            return body
        # Only MLflow's own error (its JSON `error_code` and message) is passed on: the body
        # of whatever else answered is never echoed.
        said = isinstance(body, dict) and "error_code" in body
        detail = f": {str(body.get('message', ''))[:300]}" if said else ""
        raise UpstreamError(
            f"The MLflow server at {self.ref.tracking_uri} answered {response.status_code} "
            f"for run {self.ref.run_id}{detail}",
            user_error=response.status_code in (400, 401, 403, 404),
        )

    def history(self, key: str, limit: int, page_size: int) -> dict[float, float]:
        values: dict[float, float] = {}
        token = None
        while True:
            params: dict[str, Any] = {"run_id": self.ref.run_id, "metric_key": key}
            params["max_results"] = page_size
            if token:
                params["page_token"] = token
            page = self.get("/metrics/get-history", **params)
            for point in page.get("metrics", []):
                values.setdefault(float(point.get("step", 0)), float(point["value"]))
            if len(values) > limit:
                raise UpstreamError(
                    f"Metric {key!r} of run {self.ref.run_id} has more than {limit} steps, more "
                    "epoch rows than a run may hold (LOSSGAP_MAX_EPOCHS_PER_RUN).",
                    user_error=True,
                )
            token = page.get("next_page_token")
            if not token:
                return values


def fetch(
    ref: RunRef,
    overrides: Mapping[str, str] | None = None,
    *,
    timeout: float = 30.0,
    max_metrics: int = 200,
    max_points: int = 100_000,
    auth: Mapping[str, str] | None = None,
    page_size: int = PAGE,
) -> tuple[Parsed, str]:
    """The run parsed, and its name in MLflow."""
    api = Api(ref, timeout, auth or {})
    try:
        run = api.get("/runs/get", run_id=ref.run_id)["run"]
        data = run.get("data", {})
        keys = sorted({m["key"] for m in data.get("metrics", [])})
        if len(keys) > max_metrics:
            raise UpstreamError(
                f"Run {ref.run_id} has {len(keys)} metrics; at most {max_metrics} are fetched "
                "(LOSSGAP_MLFLOW_MAX_METRICS).",
                user_error=True,
            )
        series = {key: api.history(key, max_points, page_size) for key in keys}
    finally:
        api.close()
    params = {p["key"]: str(p.get("value", "")) for p in data.get("params", [])}
    parsed = mlflow.from_series(series, params, overrides)
    parsed.notes.append(f"pulled from {ref.tracking_uri}, run {ref.run_id}")
    return parsed, str(run.get("info", {}).get("run_name") or ref.run_id)
