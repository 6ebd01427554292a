"""Evidence → calibrated confidence: one logistic model per cause.

p(cause | run) = a weighted average of sigmoid(b + sum of w_f * x_f) models: one over the
features the catalog lists for the cause, one over all features. Nothing is hand-set:
`bench/fit_model.py` fits the weights and the averaging share (L2-penalized maximum likelihood,
cross-validated) on the training part of the scenario suite and writes `model_params.json`;
`bench/accuracy.py` checks calibration on the held-out part.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

PARAMS = Path(__file__).with_name("model_params.json")


@dataclass(frozen=True)
class Logistic:
    bias: float
    weights: Mapping[str, float]

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass(frozen=True)
class CauseModel:
    """A weighted average of logistic models (a linear opinion pool keeps calibration)."""

    members: tuple[tuple[float, Logistic], ...]

    def probability(self, features: Mapping[str, float]) -> float:
        return sum(share * member.probability(features) for share, member in self.members)


@dataclass(frozen=True)
class Model:
    version: str
    causes: Mapping[str, CauseModel]

    def predict(self, features: Mapping[str, float]) -> dict[str, float]:
        return {cause: m.probability(features) for cause, m in self.causes.items()}


def _logistic(spec: Mapping[str, Any]) -> Logistic:
    return Logistic(float(spec["bias"]), {k: float(v) for k, v in spec["weights"].items()})


def parse(document: Mapping[str, Any]) -> Model:
    causes: Mapping[str, Any] = document.get("causes", {})
    return Model(
        version=str(document.get("version", "unfitted")),
        causes={
            cause: CauseModel(tuple((float(m["share"]), _logistic(m)) for m in spec["members"]))
            for cause, spec in causes.items()
        },
    )


@lru_cache(maxsize=1)
def load(path: Path = PARAMS) -> Model:
    if not path.exists():
        return Model("unfitted", {})
    return parse(json.loads(path.read_text()))
