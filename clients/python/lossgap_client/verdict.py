"""What lossgap writes into a tracker: the verdict, the top causes and their confidences, as
flat key/value entries (the shape MLflow tags, W&B summaries and TensorBoard text all take).
Pure: a diagnosis (the API's JSON) in, entries out. Shared by the server (MLflow write-back) and
the client (the W&B summary), so both say the same."""

from collections.abc import Mapping
from typing import Any

PREFIX = "lossgap"
TOP_CAUSES = 3
LIKELY = 0.5  # a cause at or above this confidence decides the verdict
MAX_TEXT_CHARS = 5000  # MLflow's limit on a tag value


def verdict(diagnosis: Mapping[str, Any]) -> str:
    """`problem: overfitting (0.88)`, `benign: measurement_lag (0.71)` or `no likely cause`:
    the likeliest problem at even odds or better, else the likeliest cause."""
    likely = [c for c in diagnosis.get("causes", []) if c["confidence"] >= LIKELY]
    problems = [c for c in likely if c["kind"] == "problem"]
    top = (problems or likely or [None])[0]
    if top is None:
        return "no likely cause"
    return f"{top['kind']}: {top['id']} ({top['confidence']:.2f})"


def entries(
    diagnosis: Mapping[str, Any], run_url: str | None = None, sep: str = "."
) -> dict[str, str | float]:
    """`lossgap.verdict`, `.summary`, `.causes`, `.engine_version`, `.confidence.<cause>` (a
    number) and `.run`, with `sep` between the parts (`/` groups them in W&B)."""
    causes = list(diagnosis.get("causes", []))[:TOP_CAUSES]
    out: dict[str, str | float] = {
        f"{PREFIX}{sep}verdict": verdict(diagnosis),
        f"{PREFIX}{sep}summary": str(diagnosis.get("summary", ""))[:MAX_TEXT_CHARS],
        f"{PREFIX}{sep}causes": ", ".join(f"{c['id']} {c['confidence']:.2f}" for c in causes),
        f"{PREFIX}{sep}engine_version": str(diagnosis.get("engine_version", "")),
    }
    for cause in causes:
        out[f"{PREFIX}{sep}confidence{sep}{cause['id']}"] = float(cause["confidence"])
    if run_url:
        out[f"{PREFIX}{sep}run"] = run_url
    return out
