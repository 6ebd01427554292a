"""Fit the per-cause logistic models on the training part of the scenario suite.

    python bench/fit_model.py        # writes app/analysis/model_params.json

Each cause gets two logistic models, averaged: one over the features the catalog lists for the
cause (the evidence a domain expert would weigh; it behaves sensibly on real logs) and one over
every feature (it finds discriminating evidence the catalog misses, but alone it leaned on
spurious features on real logs). Weights maximize the L2-penalized likelihood; each penalty and
the averaging share are chosen by cross-validated log-loss over the fitting runs, grouped by
variant index so that a recipe's variants are held out together.
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

PENALTIES = (0.01, 0.03, 0.1, 0.3, 1.0)
BLEND = tuple(a / 10 for a in range(11))


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


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, penalty: float) -> np.ndarray:
    """Each run's probability from a model fitted without its group."""
    p = np.zeros(len(y))
    for group in np.unique(groups):
        test = groups == group
        w = fit_logistic(x[~test], y[~test], penalty)
        z = np.hstack([np.ones((test.sum(), 1)), x[test]]) @ w
        p[test] = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
    return p


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_member(
    rows: list[dict[str, float]], names: list[str], y: np.ndarray, groups: np.ndarray
) -> tuple[dict[str, object], np.ndarray]:
    x = np.array([[row.get(n, 0.0) for n in names] for row in rows], dtype=float)
    penalty = min(PENALTIES, key=lambda lam: log_loss(out_of_fold(x, y, groups, lam), y))
    w = fit_logistic(x, y, penalty)
    member = {
        "bias": round(float(w[0]), 6),
        "weights": {n: round(float(v), 6) for n, v in zip(names, w[1:], strict=True)},
        "penalty": penalty,
    }
    return member, out_of_fold(x, y, groups, penalty)


def main() -> None:
    runs = load_runs("fit")
    rows = [features_of(run.history)[2] for run in runs]
    every = sorted(set().union(*rows))
    groups = np.array([int(run.name.rsplit("-", 1)[1]) % 4 for run in runs])
    members: dict[str, dict[str, object]] = {}
    held: dict[str, list[np.ndarray]] = {"prior": [], "all": []}
    truth = []
    print(f"fitting on {len(runs)} runs")
    for cause in CAUSES:
        y = np.array([cause.id in run.truth for run in runs], dtype=float)
        prior, p_prior = fit_member(rows, list(cause.features), y, groups)
        full, p_all = fit_member(rows, every, y, groups)
        members[cause.id] = {"prior": prior, "all": full, "positives": int(y.sum())}
        held["prior"].append(p_prior)
        held["all"].append(p_all)
        truth.append(y)
        print(
            f"{cause.id:<28} positives {int(y.sum()):>3}  penalties {prior['penalty']}, "
            f"{full['penalty']}"
        )
    y_all = np.concatenate(truth)
    p_prior, p_full = np.concatenate(held["prior"]), np.concatenate(held["all"])
    share = min(BLEND, key=lambda a: log_loss(a * p_full + (1 - a) * p_prior, y_all))
    print(
        f"blend: {share:.1f} x all-feature model + {1 - share:.1f} x catalog model "
        "(cross-validated log-loss)"
    )
    causes = {
        cause_id: {
            "members": [
                {"share": round(1 - share, 3), **spec["prior"]},
                {"share": round(share, 3), **spec["all"]},
            ],
            "positives": spec["positives"],
        }
        for cause_id, spec in members.items()
    }
    digest = hashlib.sha256(json.dumps(causes, sort_keys=True).encode()).hexdigest()[:12]
    document = {"version": f"fit-{digest}", "fitted_on": len(runs), "causes": causes}
    PARAMS.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {PARAMS}")


if __name__ == "__main__":
    main()
