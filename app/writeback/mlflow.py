"""Write lossgap's answer into an MLflow run: tags (`lossgap.verdict`, `lossgap.causes`,
`lossgap.confidence.<cause>` …) in one `runs/log-batch`, and `lossgap/diagnosis.json` with
`lossgap/curves.png` as run artifacts through the tracking server's proxied artifact store.

A run whose artifacts live where the tracking server does not serve them (a local path or a
bucket it does not proxy) gets its tags and a note saying why the files were left out."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lossgap_client.verdict import PREFIX, entries, verdict

from app.imports.mlflow_server import Api, RunRef
from app.pages.downsample import Thinned
from app.writeback.plot import curves_png

PROXIED = "mlflow-artifacts:"


@dataclass
class WrittenBack:
    tags: dict[str, str]
    artifacts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _proxied_root(artifact_uri: str) -> str | None:
    """`mlflow-artifacts:/1/<run>/artifacts` (or `mlflow-artifacts://host/…`): `1/<run>/…`."""
    if not artifact_uri.startswith(PROXIED):
        return None
    rest = artifact_uri.removeprefix(PROXIED)
    if rest.startswith("//"):
        rest = rest[2:].split("/", 1)[1] if "/" in rest[2:] else ""
    return rest.strip("/")


def write_back(
    ref: RunRef,
    diagnosis: Mapping[str, Any],
    epochs: Sequence[Mapping[str, float]],
    *,
    run_url: str | None,
    timeout: float,
    auth: Mapping[str, str],
    steps: Thinned | None = None,
) -> WrittenBack:
    api = Api(ref, timeout, auth)
    try:
        info = api.get("/runs/get", run_id=ref.run_id)["run"]["info"]
        written = WrittenBack(
            {
                key: f"{value:.3f}" if isinstance(value, float) else value
                for key, value in entries(diagnosis, run_url).items()
            }
        )
        api.post(
            "/runs/log-batch",
            {
                "run_id": ref.run_id,
                "tags": [{"key": k, "value": v} for k, v in written.tags.items()],
            },
        )
        root = _proxied_root(str(info.get("artifact_uri", "")))
        if root is None:
            written.notes.append(
                f"artifacts not written: the run's artifact store ({info.get('artifact_uri')}) "
                "is not served by the tracking server (start it with --serve-artifacts); the "
                "tags were written"
            )
            return written
        files = {
            f"{PREFIX}/diagnosis.json": (
                json.dumps(diagnosis, indent=2, allow_nan=True).encode(),
                "application/json",
            ),
            f"{PREFIX}/curves.png": (
                curves_png(epochs, f"lossgap: {verdict(diagnosis)}", steps),
                "image/png",
            ),
        }
        for path, (content, media_type) in files.items():
            api.put_artifact(f"{root}/{path}", content, media_type)
            written.artifacts.append(path)
        return written
    finally:
        api.close()
