"""Fit the per-cause logistic models on the training part of the scenario suite.

    python bench/fit_model.py        # writes app/analysis/model_params.json

Each cause gets two logistic models over the history's features, averaged: one over the features the
catalog lists for the cause (the evidence a domain expert would weigh; it behaves sensibly on real
logs) and one over every feature (it finds discriminating evidence the catalog misses, but alone it
leaned on spurious features on real logs). For causes with re-evaluation evidence, a probe model
over the catalog's probe features is fitted on the runs that carry a probe report, and a two-input
stacking logistic over the out-of-fold logits of both decides how much each is trusted (the
history logit's coefficient capped at 1: fitted in family, an uncapped stacking re-sharpened the
history opinion the out-of-family calibration had tempered). Weights
maximize the L2-penalized likelihood; each penalty and the averaging share are chosen by cross-
validated log-loss over the fitting runs, grouped by variant index so that a recipe's variants are
held out together. The same history models are fitted a second time on the runs with their
validation removed, for the causes a training curve alone shows (runs logged without validation).

A cause's models are fitted only on the runs whose symptoms its mechanism can produce (the catalog's
`requires`/`excludes`), because only there are they asked; its base rate is the share of those runs
where it is real. `fit(rows)` is the whole procedure on any set of runs, so `bench/accuracy.py` can
refit leaving one family of runs out.
"""

import hashlib
import json
import sys
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.analysis import differential
from app.analysis.catalog import BY_ID, CAUSES, TRAINING_CURVE_CAUSES
from app.analysis.diagnose import features_of
from app.analysis.fingerprint import FEATURES_FINGERPRINT
from app.analysis.history import History
from app.analysis.model import PARAMS
from app.analysis.symptoms import measure
from bench.scenarios.suite import FITTED_GENERATOR, ScenarioRun, load_runs

PENALTIES = (0.01, 0.03, 0.1, 0.3, 1.0)
CALIBRATION_PENALTY = 0.01
MAX_HISTORY_TRUST = 1.0  # the stacking's coefficient on the calibrated history logit, at most
BLEND = tuple(a / 10 for a in range(11))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, penalty: float, offset: np.ndarray | None = None
) -> np.ndarray:
    """Weights (bias first) maximizing the log-likelihood minus penalty·|w|² (bias unpenalized),
    with `offset` added to every run's logit as it is (a coefficient fixed at 1)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    fixed = np.zeros(len(x)) if offset is None else offset

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ w + fixed
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
    rows: list[dict[str, float]],
    names: list[str],
    y: np.ndarray,
    groups: np.ndarray,
    families: np.ndarray | None = None,
) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """The member's weights, its out-of-fold probabilities by `groups` (variants held out
    together) and, when `families` are given, by family (each family held out in turn)."""
    x = np.array([[row.get(n, 0.0) for n in names] for row in rows], dtype=float)
    penalty = min(PENALTIES, key=lambda lam: log_loss(out_of_fold(x, y, groups, lam), y))
    w = fit_logistic(x, y, penalty)
    member = {
        "bias": round(float(w[0]), 6),
        "weights": {n: round(float(v), 6) for n, v in zip(names, w[1:], strict=True)},
        "penalty": penalty,
    }
    held_out = out_of_fold(x, y, groups, penalty)
    by_family = held_out if families is None else out_of_fold(x, y, families, penalty)
    return member, held_out, by_family


# Whether a run logged steps or accuracy is a fact about the log, not about any cause; in the
# suite it follows the variant index, so the all-feature models would learn the recipes from it.
# The catalog models keep them where a cause's evidence needs them (lag from steps).
LOG_FORMAT = frozenset({"has_steps", "has_accuracy"})


def is_probe(name: str) -> bool:
    return name.startswith("pr_")


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class Row:
    """One suite run as the fit reads it, computed once: its features and compatible causes in
    each view (history only, with the probe report, training curve only) and its labels."""

    truth: frozenset[str]
    group: int
    family: int
    bare: dict[str, float]
    bare_allowed: frozenset[str]
    training: dict[str, float]
    training_allowed: frozenset[str]
    probe: dict[str, float] | None
    probe_allowed: frozenset[str]


def _view(history: History) -> tuple[dict[str, float], frozenset[str]]:
    curves, findings, features = features_of(history)
    return features, differential.compatible(measure(curves, findings))


def row_of(run: ScenarioRun) -> Row:
    bare, bare_allowed = _view(run.without_probe())
    training, training_allowed = _view(run.training_only())
    probe, probe_allowed = _view(run.history) if run.history.probe else (None, frozenset())
    return Row(
        run.truth,
        run.variant % 4,
        zlib.crc32(run.family.encode()),
        bare,
        bare_allowed,
        training,
        training_allowed,
        probe,
        probe_allowed,
    )


@dataclass(frozen=True)
class HistoryModels:
    """Per cause, the catalog and all-feature members, their out-of-fold probabilities and the
    one share that blends them (chosen by the cross-validated log-loss over every cause)."""

    members: dict[str, tuple[dict[str, object], dict[str, object]]]
    truth: dict[str, np.ndarray]
    held_out: dict[str, np.ndarray]  # the blend's out-of-fold probability per fitted run
    fitted: dict[str, np.ndarray]  # indices of the runs each cause was fitted on
    share: float
    calibration: tuple[float, float]  # slope and bias on the logit, fitted out of family

    def entry(self, cause_id: str) -> dict[str, object]:
        prior, full = self.members[cause_id]
        y = self.truth[cause_id]
        return {
            "members": [
                {"share": round(1 - self.share, 3), **prior},
                {"share": round(self.share, 3), **full},
            ],
            "positives": int(y.sum()),
            "base_rate": round(float(y.mean()), 4) if len(y) else 0.0,
        }


def fit_history(
    rows: list[dict[str, float]],
    truths: list[frozenset[str]],
    allowed: list[frozenset[str]],
    groups: np.ndarray,
    families: np.ndarray,
    cause_ids: Iterable[str],
    verbose: bool = True,
) -> HistoryModels:
    """The blend share is chosen on each family's runs predicted by members fitted on the other
    families: how far a member generalizes beyond the runs it saw decides how much it counts."""
    every = sorted(n for n in set().union(*rows) if not is_probe(n) and n not in LOG_FORMAT)
    members, truth, p_prior, p_all, fitted = {}, {}, {}, {}, {}
    f_prior, f_all = {}, {}
    for cause_id in cause_ids:
        index = np.array([i for i, ok in enumerate(allowed) if cause_id in ok], dtype=int)
        subset = [rows[i] for i in index]
        y = np.array([cause_id in truths[i] for i in index], dtype=float)
        names = [f for f in BY_ID[cause_id].features if not is_probe(f)]
        if len(index) == 0:
            subset, y, index = rows[:1], np.zeros(1), np.zeros(1, dtype=int)
        prior, p_prior[cause_id], f_prior[cause_id] = fit_member(
            subset, names, y, groups[index], families[index]
        )
        full, p_all[cause_id], f_all[cause_id] = fit_member(
            subset, every, y, groups[index], families[index]
        )
        members[cause_id], truth[cause_id], fitted[cause_id] = (prior, full), y, index
        if verbose:
            print(
                f"{cause_id:<28} runs {len(index):>4}  positives {int(y.sum()):>3}  "
                f"penalties {prior['penalty']}, {full['penalty']}"
            )
    y_all, prior_all, full_all = (np.concatenate(list(d.values())) for d in (truth, f_prior, f_all))
    share = min(BLEND, key=lambda a: log_loss(a * full_all + (1 - a) * prior_all, y_all))
    if verbose:
        blended = log_loss(share * full_all + (1 - share) * prior_all, y_all)
        print(
            f"blend: {share:.1f} x all-feature model + {1 - share:.1f} x catalog model "
            f"(log-loss {blended:.1f} with each family held out)"
        )
    slope, bias = calibrate(share * full_all + (1 - share) * prior_all, y_all)
    if verbose:
        print(f"calibration out of family: logit x {slope:.2f} {bias:+.2f}")
    held_out = {
        c: expit(slope * logit(share * p_all[c] + (1 - share) * p_prior[c]) + bias) for c in members
    }
    return HistoryModels(members, truth, held_out, fitted, share, (slope, bias))


def calibrate(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling of the pooled probabilities each family got from models fitted without it:
    how confident a prediction may be on runs unlike those fitted is measured there, not on the
    fitted runs (where the members are overconfident)."""
    bias, slope = fit_logistic(logit(p)[:, None], y, CALIBRATION_PENALTY)
    return round(float(slope), 4), round(float(bias), 4)


def fit_probe(
    cause_id: str, history: HistoryModels, rows: list[Row], verbose: bool = True
) -> dict[str, object]:
    """The probe model and its stacking with the history model, where it lowers the
    cross-validated log-loss on the re-evaluated runs; else nothing."""
    probe_features = [f for f in BY_ID[cause_id].features if is_probe(f)]
    position = {int(i): k for k, i in enumerate(history.fitted[cause_id])}
    probed = [
        i
        for i, row in enumerate(rows)
        if row.probe is not None and cause_id in row.probe_allowed and i in position
    ]
    if not probe_features or not probed:
        return {}
    y = np.array([cause_id in rows[i].truth for i in probed], dtype=float)
    g = np.array([rows[i].group for i in probed])
    probe_rows = [rows[i].probe or {} for i in probed]
    probe, p_probe, _ = fit_member(probe_rows, probe_features, y, g)
    p_history = history.held_out[cause_id][[position[i] for i in probed]]
    stacked = [
        {"h": float(a), "q": float(b)}
        for a, b in zip(logit(p_history), logit(p_probe), strict=True)
    ]
    stack, p_stack, _ = fit_member(stacked, ["h", "q"], y, g)
    weights = stack["weights"]
    assert isinstance(weights, dict)
    if weights["h"] > MAX_HISTORY_TRUST:
        stack, p_stack = capped_stack(logit(p_history), logit(p_probe), y, g)
        weights = stack["weights"]
        assert isinstance(weights, dict)
    kept = log_loss(p_stack, y) < log_loss(p_history, y)
    if verbose:
        print(
            f"{cause_id:<28} re-evaluated runs: log-loss history {log_loss(p_history, y):.1f}"
            f", probe {log_loss(p_probe, y):.1f}, stacked {log_loss(p_stack, y):.1f}"
            f"{'' if kept else ' (probe model dropped)'}"
        )
    if not kept:
        return {}
    return {
        "probe": probe,
        "stack": {"history": weights["h"], "probe": weights["q"], "bias": stack["bias"]},
    }


def capped_stack(
    history: np.ndarray, probe: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> tuple[dict[str, object], np.ndarray]:
    """The stacking with the history opinion taken as calibrated out of family (coefficient
    1): a re-evaluation may add evidence or discount the curves, but the curves' own confidence
    stays what they earned on families left out, not what they earned on the fitted ones."""
    x = probe[:, None]
    penalty = CALIBRATION_PENALTY
    w = fit_logistic(x, y, penalty, history)
    p = np.zeros(len(y))
    for group in np.unique(groups):
        test = groups == group
        wg = fit_logistic(x[~test], y[~test], penalty, history[~test])
        p[test] = expit(wg[0] + wg[1] * probe[test] + history[test])
    return {"bias": round(float(w[0]), 6), "weights": {"h": 1.0, "q": round(float(w[1]), 6)}}, p


def fit(rows: list[Row], verbose: bool = True) -> dict[str, object]:
    """The fitted parameters document for these runs (what `model_params.json` holds)."""
    groups = np.array([row.group for row in rows])
    families = np.array([row.family for row in rows])
    truths = [row.truth for row in rows]
    history = fit_history(
        [row.bare for row in rows],
        truths,
        [row.bare_allowed for row in rows],
        groups,
        families,
        (cause.id for cause in CAUSES),
        verbose,
    )
    causes = {
        cause.id: {**history.entry(cause.id), **fit_probe(cause.id, history, rows, verbose)}
        for cause in CAUSES
    }
    # Runs logged without validation: the causes a training curve shows, fitted on the same runs
    # with their validation removed.
    if verbose:
        print("training-only view:")
    training = fit_history(
        [row.training for row in rows],
        truths,
        [row.training_allowed for row in rows],
        groups,
        families,
        TRAINING_CURVE_CAUSES,
        verbose,
    )
    training_only = {cause_id: training.entry(cause_id) for cause_id in TRAINING_CURVE_CAUSES}
    fitted = {
        "features": FEATURES_FINGERPRINT,
        "calibration": {
            "history": dict(zip(("slope", "bias"), history.calibration, strict=True)),
            "training_only": dict(zip(("slope", "bias"), training.calibration, strict=True)),
        },
        "causes": causes,
        "training_only": training_only,
    }
    digest = hashlib.sha256(json.dumps(fitted, sort_keys=True).encode()).hexdigest()[:12]
    return {"version": f"fit-{digest}", "fitted_on": len(rows), **fitted}


def main() -> None:
    # The second generator's runs are never fitted on: they are the yardstick of how the engine
    # does on runs unlike its own (bench/accuracy.py, "other generator").
    runs = [run for run in load_runs("fit") if run.generator == FITTED_GENERATOR]
    print(f"fitting on {len(runs)} runs ({sum(1 for r in runs if r.history.probe)} probed)")
    document = fit([row_of(run) for run in runs])
    PARAMS.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {PARAMS}")


if __name__ == "__main__":
    main()
