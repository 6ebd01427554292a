"""What lossgap writes into a tracker: the verdict, the top causes and their confidences, as
flat key/value tags (the shape MLflow tags, W&B summaries and TensorBoard text all take).
Pure: a diagnosis (the API's JSON) in, strings out."""

from collections.abc import Mapping
from typing import Any

PREFIX = "lossgap"
TOP_CAUSES = 3
LIKELY = 0.5  # a cause at or above this confidence decides the verdict
MAX_TAG_CHARS = 5000  # MLflow's limit on a tag value


def verdict(diagnosis: Mapping[str, Any]) -> str:
    """`problem: overfitting (0.88)`, `benign: measurement_lag (0.71)` or `no likely cause`."""
    likely = [c for c in diagnosis.get("causes", []) if c["confidence"] >= LIKELY]
    problems = [c for c in likely if c["kind"] == "problem"]
    top = (problems or likely or [None])[0]
    if top is None:
        return "no likely cause"
    return f"{top['kind']}: {top['id']} ({top['confidence']:.2f})"


def tags(diagnosis: Mapping[str, Any], run_url: str | None = None) -> dict[str, str]:
    causes = list(diagnosis.get("causes", []))[:TOP_CAUSES]
    out = {
        f"{PREFIX}.verdict": verdict(diagnosis),
        f"{PREFIX}.summary": str(diagnosis.get("summary", ""))[:MAX_TAG_CHARS],
        f"{PREFIX}.causes": ", ".join(f"{c['id']} {c['confidence']:.2f}" for c in causes),
        f"{PREFIX}.engine_version": str(diagnosis.get("engine_version", "")),
    }
    for cause in causes:
        out[f"{PREFIX}.confidence.{cause['id']}"] = f"{cause['confidence']:.3f}"
    if run_url:
        out[f"{PREFIX}.run"] = run_url
    return out
