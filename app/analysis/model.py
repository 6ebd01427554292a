"""Evidence → calibrated confidence: one logistic model per cause.

p(cause | run) = a weighted average of sigmoid(b + sum of w_f * x_f) models over the history's
features: one over the features the catalog lists for the cause, one over all features; the
average is Platt-scaled by a map fitted on families of runs left out of the fit, so confidence is
what the models earned on runs unlike those they were fitted on. When the run has a probe report
(a re-evaluation) and the cause has re-evaluation evidence, a third logistic model reads only the
probe's features, and a stacking logistic combines the two opinions (their logits), so decisive
evidence from the model itself (every validation sample duplicated in training) is not outvoted by
curves that happen to look like another cause. Nothing is hand-set: `bench/fit_model.py` fits the
weights, the averaging share and the calibration (L2-penalized maximum likelihood, cross-validated)
on the training part of the scenario suite and writes `model_params.json`; `bench/accuracy.py`
checks calibration in family, out of family and on the other generator.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

PARAMS = Path(__file__).with_name("model_params.json")


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass(frozen=True)
class Logistic:
    bias: float
    weights: Mapping[str, float]

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return _sigmoid(z)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Stack:
    history: float
    probe: float
    bias: float

    def combine(self, p_history: float, p_probe: float) -> float:
        z = self.bias + self.history * _logit(p_history) + self.probe * _logit(p_probe)
        return _sigmoid(z)


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of the history models' pooled probability, fitted on families of runs held
    out of the fit (bench/fit_model.py): confidence as earned on runs unlike the fitted ones."""

    slope: float = 1.0
    bias: float = 0.0

    def apply(self, p: float) -> float:
        z = self.bias + self.slope * _logit(p)
        return _sigmoid(z)


@dataclass(frozen=True)
class CauseModel:
    """A weighted average of history models (a linear opinion pool keeps calibration), stacked
    with a probe model when the run was re-evaluated."""

    members: tuple[tuple[float, Logistic], ...]
    probe: Logistic | None = None
    stack: Stack | None = None
    base_rate: float | None = None  # share of the fitting runs where the cause was real
    calibration: Calibration = field(default_factory=Calibration)

    def probability(self, features: Mapping[str, float]) -> float:
        pooled = sum(share * member.probability(features) for share, member in self.members)
        p = self.calibration.apply(pooled)
        if self.probe is None or self.stack is None or not features.get("pr_present"):
            return p
        return self.stack.combine(p, self.probe.probability(features))


@dataclass(frozen=True)
class Model:
    """The cause models of runs with both curves, and those of runs logged without validation
    (fitted on the same runs with their validation removed, so calibrated for that view)."""

    version: str
    causes: Mapping[str, CauseModel]
    training_only: Mapping[str, CauseModel] = field(default_factory=dict)
    features: str = ""  # the fingerprint of the feature code it was fitted on (fingerprint.py)

    def predict(
        self, features: Mapping[str, float], *, training_only: bool = False
    ) -> dict[str, float]:
        models = self.training_only if training_only else self.causes
        return {cause: m.probability(features) for cause, m in models.items()}

    def base_rates(self, *, training_only: bool = False) -> dict[str, float]:
        models = self.training_only if training_only else self.causes
        return {cause: m.base_rate for cause, m in models.items() if m.base_rate is not None}


def _logistic(spec: Mapping[str, Any]) -> Logistic:
    return Logistic(float(spec["bias"]), {k: float(v) for k, v in spec["weights"].items()})


def _calibration(spec: Mapping[str, Any] | None) -> Calibration:
    if not spec:
        return Calibration()
    return Calibration(float(spec["slope"]), float(spec["bias"]))


def parse(document: Mapping[str, Any]) -> Model:
    causes: Mapping[str, Any] = document.get("causes", {})
    training_only: Mapping[str, Any] = document.get("training_only", {})
    calibration: Mapping[str, Any] = document.get("calibration", {})
    history, training = (_calibration(calibration.get(k)) for k in ("history", "training_only"))
    return Model(
        version=str(document.get("version", "unfitted")),
        causes={cause: _cause_model(spec, history) for cause, spec in causes.items()},
        training_only={
            cause: _cause_model(spec, training) for cause, spec in training_only.items()
        },
        features=str(document.get("features", "")),
    )


def _cause_model(spec: Mapping[str, Any], calibration: Calibration) -> CauseModel:
    members = tuple((float(m["share"]), _logistic(m)) for m in spec["members"])
    base_rate = float(spec["base_rate"]) if "base_rate" in spec else None
    probe, stack = spec.get("probe"), spec.get("stack")
    if not probe or not stack:
        return CauseModel(members, base_rate=base_rate, calibration=calibration)
    return CauseModel(
        members,
        _logistic(probe),
        Stack(float(stack["history"]), float(stack["probe"]), float(stack["bias"])),
        base_rate,
        calibration,
    )


@lru_cache(maxsize=1)
def load(path: Path = PARAMS) -> Model:
    if not path.exists():
        return Model("unfitted", {})
    return parse(json.loads(path.read_text()))
