"""Fit the per-cause logistic models on the training part of the scenario suite.

    python bench/fit_model.py        # writes app/analysis/model_params.json

Each cause's model reads every feature the checks produce, so evidence against a cause (a
stable sum-vs-mean ratio argues against an easier validation split) counts as well as evidence
for it; with few runs per cause that worked better on the held-out part than hand-picked subsets.
Weights are the maximum of the L2-penalized likelihood; the penalty is chosen per cause by
cross-validated log-loss over the fitting runs, grouped by variant index so that a recipe's
variants are held out together.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.analysis.catalog import CAUSES
from app.analysis.diagnose import features_of
from app.analysis.model import PARAMS
from bench.scenarios.suite import load_runs

PENALTIES = (0.03, 0.1, 0.3, 1.0, 3.0)


def fit_logistic(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """Weights (bias first) maximizing the log-likelihood minus penalty·|w|² (bias unpenalized)."""
    design = np.hstack([np.ones((len(x), 1)), x])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ w
        p = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
        nll = float(np.sum(np.logaddexp(0, z) - y * z))
        grad = design.T @ (p - y)
        reg = penalty * float(np.sum(w[1:] ** 2))
        grad[1:] += 2 * penalty * w[1:]
        return nll + reg, grad

    return minimize(loss, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x


def cv_logloss(x: np.ndarray, y: np.ndarray, groups: np.ndarray, penalty: float) -> float:
    total = 0.0
    for group in np.unique(groups):
        test = groups == group
        w = fit_logistic(x[~test], y[~test], penalty)
        z = np.hstack([np.ones((test.sum(), 1)), x[test]]) @ w
        total += float(np.sum(np.logaddexp(0, z) - y[test] * z))
    return total


def main() -> None:
    runs = load_runs("fit")
    rows = [features_of(run.history)[2] for run in runs]
    every = sorted(set().union(*rows))
    groups = np.array([int(run.name.rsplit("-", 1)[1]) % 4 for run in runs])
    params: dict[str, dict[str, object]] = {}
    print(f"fitting on {len(runs)} runs")
    for cause in CAUSES:
        names = every
        x = np.array([[row.get(n, 0.0) for n in names] for row in rows], dtype=float)
        y = np.array([cause.id in run.truth for run in runs], dtype=float)
        penalty = min(PENALTIES, key=lambda lam: cv_logloss(x, y, groups, lam))
        w = fit_logistic(x, y, penalty)
        params[cause.id] = {
            "bias": round(float(w[0]), 6),
            "weights": {n: round(float(v), 6) for n, v in zip(names, w[1:], strict=True)},
            "penalty": penalty,
            "positives": int(y.sum()),
        }
        print(f"{cause.id:<28} positives {int(y.sum()):>3}  penalty {penalty}")
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    document = {"version": f"fit-{digest}", "fitted_on": len(runs), "causes": params}
    PARAMS.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {PARAMS}")


if __name__ == "__main__":
    main()
