"""Fit the per-cause logistic models on the training part of the scenario suite.

    python bench/fit_model.py        # writes app/analysis/model_params.json

Each cause gets two logistic models over the history's features, averaged: one over the features the
catalog lists for the cause (the evidence a domain expert would weigh; it behaves sensibly on real
logs) and one over every feature (it finds discriminating evidence the catalog misses, but alone it
leaned on spurious features on real logs). For causes with re-evaluation evidence, a probe model
over the catalog's probe features is fitted on the runs that carry a probe report, and a two-input
stacking logistic over the out-of-fold logits of both decides how much each is trusted. Weights
maximize the L2-penalized likelihood; each penalty and the averaging share are chosen by cross-
validated log-loss over the fitting runs, grouped by variant index so that a recipe's variants are
held out together.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.analysis.catalog import BY_ID, CAUSES, TRAINING_CURVE_CAUSES
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


# Whether a run logged steps or accuracy is a fact about the log, not about any cause; in the
# suite it follows the variant index, so the all-feature models would learn the recipes from it.
# The catalog models keep them where a cause's evidence needs them (lag from steps).
LOG_FORMAT = frozenset({"has_steps", "has_accuracy"})


def is_probe(name: str) -> bool:
    return name.startswith("pr_")


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_training_only(runs: list, groups: np.ndarray) -> dict[str, dict[str, object]]:
    """The causes a training curve shows, fitted on the same runs with validation removed (what
    a script that logs no validation reports), catalog and all-feature members blended as above."""
    rows = [features_of(run.training_only())[2] for run in runs]
    every = sorted(n for n in set().union(*rows) if not is_probe(n) and n not in LOG_FORMAT)
    fitted, truth, p_prior, p_all = {}, [], [], []
    for cause_id in TRAINING_CURVE_CAUSES:
        y = np.array([cause_id in run.truth for run in runs], dtype=float)
        names = [f for f in BY_ID[cause_id].features if not is_probe(f)]
        prior, held_prior = fit_member(rows, names, y, groups)
        full, held_all = fit_member(rows, every, y, groups)
        fitted[cause_id] = (prior, full)
        truth.append(y)
        p_prior.append(held_prior)
        p_all.append(held_all)
    y_all, prior_all, full_all = map(np.concatenate, (truth, p_prior, p_all))
    share = min(BLEND, key=lambda a: log_loss(a * full_all + (1 - a) * prior_all, y_all))
    blended = log_loss(share * full_all + (1 - share) * prior_all, y_all)
    print(
        f"training-only view: {share:.1f} x all-feature model + {1 - share:.1f} x catalog model; "
        f"cross-validated log-loss {blended:.1f}"
    )
    return {
        cause_id: {
            "members": [
                {"share": round(1 - share, 3), **prior},
                {"share": round(share, 3), **full},
            ],
            "positives": int(truth[k].sum()),
        }
        for k, (cause_id, (prior, full)) in enumerate(fitted.items())
    }


def main() -> None:
    runs = load_runs("fit")
    bare = [features_of(run.without_probe())[2] for run in runs]
    every = sorted(n for n in set().union(*bare) if not is_probe(n) and n not in LOG_FORMAT)
    groups = np.array([int(run.name.rsplit("-", 1)[1]) % 4 for run in runs])
    probed = [i for i, run in enumerate(runs) if run.history.probe]
    probe_rows = [features_of(runs[i].history)[2] for i in probed]
    members: dict[str, dict[str, object]] = {}
    held: dict[str, list[np.ndarray]] = {"prior": [], "all": []}
    truth = []
    print(f"fitting on {len(runs)} runs ({len(probed)} with a probe report)")
    for cause in CAUSES:
        y = np.array([cause.id in run.truth for run in runs], dtype=float)
        history_features = [f for f in cause.features if not is_probe(f)]
        prior, p_prior = fit_member(bare, history_features, y, groups)
        full, p_all = fit_member(bare, every, y, groups)
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
    causes: dict[str, dict[str, object]] = {}
    for k, cause in enumerate(CAUSES):
        spec = members[cause.id]
        entry: dict[str, object] = {
            "members": [
                {"share": round(1 - share, 3), **spec["prior"]},  # type: ignore[dict-item]
                {"share": round(share, 3), **spec["all"]},  # type: ignore[dict-item]
            ],
            "positives": spec["positives"],
        }
        probe_features = [f for f in cause.features if is_probe(f)]
        if probe_features and probed:
            y = truth[k][probed]
            g = groups[probed]
            probe, p_probe = fit_member(probe_rows, probe_features, y, g)
            p_history = (share * held["all"][k] + (1 - share) * held["prior"][k])[probed]
            stacked = [
                {"h": float(a), "q": float(b)}
                for a, b in zip(logit(p_history), logit(p_probe), strict=True)
            ]
            stack, p_stack = fit_member(stacked, ["h", "q"], y, g)
            weights = stack["weights"]
            assert isinstance(weights, dict)
            kept = log_loss(p_stack, y) < log_loss(p_history, y)
            if kept:  # only where re-evaluation improves the cross-validated fit
                entry["probe"] = probe
                entry["stack"] = {
                    "history": weights["h"],
                    "probe": weights["q"],
                    "bias": stack["bias"],
                }
            print(
                f"{cause.id:<28} re-evaluated runs: log-loss history {log_loss(p_history, y):.1f}"
                f", probe {log_loss(p_probe, y):.1f}, stacked {log_loss(p_stack, y):.1f}"
                f"{'' if kept else ' (probe model dropped)'}"
            )
        causes[cause.id] = entry
    training_only = fit_training_only(runs, groups)
    fitted = {"causes": causes, "training_only": training_only}
    digest = hashlib.sha256(json.dumps(fitted, sort_keys=True).encode()).hexdigest()[:12]
    document = {"version": f"fit-{digest}", "fitted_on": len(runs), **fitted}
    PARAMS.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {PARAMS}")


if __name__ == "__main__":
    main()
