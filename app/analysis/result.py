"""The diagnosis returned by the engine (`api.md` §4), as small frozen records."""

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# Numbers in a diagnosis are measurements: six significant digits keep every loss a user logged
# recognizable and drop float noise (-0.10999999999999999 reads -0.11).
SIGNIFICANT_DIGITS = 6

CheckStatus = Literal["flagged", "passed", "skipped"]


@dataclass(frozen=True)
class Evidence:
    check: str
    detail: str
    value: float | None = None


@dataclass(frozen=True)
class Check:
    id: str
    status: CheckStatus
    detail: str
    statistic: float | None = None


@dataclass(frozen=True)
class Cause:
    id: str
    kind: Literal["benign", "problem"]
    confidence: float
    title: str
    explanation: str
    evidence: tuple[Evidence, ...] = ()
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SymptomReport:
    """A measured symptom and, when present, the catalog causes that can produce it (most
    likely first), the probability that none of them is at work, and what would settle it."""

    id: str
    present: bool
    value: float | None
    unit: str
    detail: str
    explained_by: tuple[str, ...] = ()
    unexplained: float | None = None
    settle: str = ""


@dataclass(frozen=True)
class Diagnosis:
    summary: str
    causes: tuple[Cause, ...] = ()
    checks: tuple[Check, ...] = ()
    gap: dict[str, float | None] = field(default_factory=dict)
    symptoms: tuple[SymptomReport, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        rounded: dict[str, Any] = _rounded(asdict(self))
        return rounded


def _rounded(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value
