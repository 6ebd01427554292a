"""Evidence → calibrated confidence: one logistic model per cause.

p(cause | run) = sigmoid(b + sum of w_f * x_f) over the features the catalog lists for that
cause. The weights are not hand-set: `bench/fit_model.py` fits them (L2-penalized maximum
likelihood) on the training part of the scenario suite and writes `model_params.json`;
`bench/accuracy.py` checks calibration on the held-out part.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PARAMS = Path(__file__).with_name("model_params.json")


@dataclass(frozen=True)
class CauseModel:
    bias: float
    weights: Mapping[str, float]

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass(frozen=True)
class Model:
    version: str
    causes: Mapping[str, CauseModel]

    def predict(self, features: Mapping[str, float]) -> dict[str, float]:
        return {cause: m.probability(features) for cause, m in self.causes.items()}


def parse(document: Mapping[str, object]) -> Model:
    causes = document.get("causes", {})
    assert isinstance(causes, dict)
    return Model(
        version=str(document.get("version", "unfitted")),
        causes={
            cause: CauseModel(
                float(spec["bias"]), {k: float(v) for k, v in spec["weights"].items()}
            )
            for cause, spec in causes.items()
        },
    )


@lru_cache(maxsize=1)
def load(path: Path = PARAMS) -> Model:
    if not path.exists():
        return Model("unfitted", {})
    return parse(json.loads(path.read_text()))
