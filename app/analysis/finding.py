"""What every check returns: one statistic, its p-value or effect size, a sentence, features.

`features` are the numbers the cause model reads; the rest is shown to the user in `checks`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.analysis.result import CheckStatus


@dataclass(frozen=True)
class Finding:
    check: str
    status: CheckStatus
    detail: str
    statistic: float | None = None
    p_value: float | None = None
    features: Mapping[str, float] = field(default_factory=dict)


def skipped(check: str, why: str, features: Mapping[str, float] | None = None) -> Finding:
    return Finding(check, "skipped", why, features=features or {})
