"""Diagnosis accuracy and calibration on the scenario suite, in family, out of family and on the
other generator.

    python bench/accuracy.py              # in family (held-out part) and leave-one-family-out
    python bench/accuracy.py --split fit  # in family on the part the model was fitted on

The shipped model is fitted on the first generator's runs only. In family: it scores that
generator's held-out part, whose runs come from the same data sets and recipes. Leave-one-family-
out: for each of the first generator's families (the data set the runs were trained on: digits,
blobs, cancer, friedman) the whole fit is redone on the other families and scores the one left
out; the folds' results are pooled. Other generator: fitted on every run of the first generator,
scoring every run of the second (signals, sequences, shapes and small tables; recurrent nets,
transformers and CNNs; other optimizers, schedules and habits; causes labelled by counterfactual
reruns), which no fit ever sees. The gaps between the columns are how much the engine learned its
generator rather than the phenomena.

Each is scored from the loss history alone, with the run's probe report (the re-evaluation of its
checkpoint on its data), from the history with the config keys that declare training-time
behaviour removed (dropout, smoothing, augmentation, ...: a user who sends no config; the first
generator declares them on every run that has them, so this view shows how much the models lean
on the declaration), with no config at all (as a Keras CSV or a TensorBoard folder arrives: the
training-time behaviour is unknown, not absent, and the engine weighs it as possible), and with
validation removed (the training-only models). Top-1 / top-3:
the planted cause is the first / among the first three causes reported; top-1 any true: the
first cause is one of the run's true causes, planted or co-occurring (a planted leakage whose
first cause is the half-epoch lag also at work is a top-1 miss, not a wrong answer). First cause
real: of the runs whose first cause is reported at >= 0.5 (a claim, not a candidate), the share
where it is one of the run's true causes (planted or co-occurring): its complement is how often
the engine is confidently wrong. Recall: share of true
problem causes reported at confidence >= 0.5. Healthy clean: healthy runs with no problem cause at
>= 0.5. ECE: expected calibration error over every (run, cause) pair in ten confidence bins; ECE
reported: the same over the causes the report lists only (a cause left out at confidence 0 is
easy to be right about; the listed candidates are what a user reads); Brier: mean squared error
of the confidences over every pair.
"""

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.analysis import model as cause_model
from app.analysis.catalog import BY_ID, CAUSES, TRAINING_CURVE_CAUSES
from app.analysis.diagnose import assess, report
from app.analysis.history import History
from bench.fit_model import Row, fit, row_of
from bench.scenarios.suite import (
    FITTED_GENERATOR,
    GENERATORS,
    HISTORY_IDENTIFIABLE,
    REEVAL_IDENTIFIABLE,
    ScenarioRun,
    load_runs,
)

VIEWS: dict[str, Callable[[ScenarioRun], History]] = {
    "history": ScenarioRun.without_probe,
    "re-evaluated": lambda run: run.history,
    "history, no behaviour declared": lambda run: run.undeclared().without_probe(),
    "history, no config": lambda run: replace(run.history, config={}, probe=None),
    "training only": ScenarioRun.training_only,
}
TARGETS = {  # leave-one-family-out, issue 11
    ("history", "top1"): 0.80,
    ("history", "top3"): 0.95,
    ("history", "problem_recall"): 0.85,
    ("history", "healthy_clean"): 0.95,
    # "calibration error of reported causes": the causes a report lists, what a user reads
    ("history", "ece_reported"): 0.05,
    ("re-evaluated", "top1"): 0.92,
}


@dataclass(frozen=True)
class Scored:
    run: ScenarioRun
    ranked: tuple[str, ...]  # reported causes, most likely first
    scores: dict[str, float]


def score(runs: list[ScenarioRun], model: cause_model.Model, view: str) -> list[Scored]:
    out = []
    for run in runs:
        a = assess(VIEWS[view](run), model)
        ranked = tuple(c.id for c in report(a, model).causes)
        out.append(Scored(run, ranked, dict(a.scores)))
    return out


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = index == b
        if chosen.any():
            total += chosen.sum() / len(p) * abs(p[chosen].mean() - y[chosen].mean())
    return total


def reported_pairs(scored: list[Scored], ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The confidence of every cause a report lists, and whether it is one of the run's."""
    pairs = [(s.scores.get(c, 0.0), c in s.run.truth) for s in scored for c in s.ranked if c in ids]
    return np.array([p for p, _ in pairs]), np.array([t for _, t in pairs], dtype=float)


def metrics(scored: list[Scored], view: str) -> dict[str, float]:
    ids = list(TRAINING_CURVE_CAUSES) if view == "training only" else [c.id for c in CAUSES]
    p = np.array([[s.scores.get(i, 0.0) for i in ids] for s in scored])
    y = np.array([[i in s.run.truth for i in ids] for s in scored], dtype=float)
    planted = [s for s in scored if s.run.planted & set(ids)]
    healthy = [s for s in scored if not s.run.planted]
    claimed = [s for s in scored if s.ranked and s.scores.get(s.ranked[0], 0.0) >= 0.5]
    problem = [j for j, i in enumerate(ids) if BY_ID[i].kind == "problem"]
    problems_true = y[:, problem] == 1

    def top(k: int, subset: list[Scored]) -> float:
        hits = [bool(s.run.planted & set(s.ranked[:k])) for s in subset]
        return float(np.mean(hits)) if hits else float("nan")

    return {
        "top1": top(1, planted),
        "top3": top(3, planted),
        "top1_identifiable": top(1, [s for s in planted if s.run.planted & HISTORY_IDENTIFIABLE]),
        "top1_reeval_causes": top(1, [s for s in planted if s.run.planted & REEVAL_IDENTIFIABLE]),
        "top1_any_true": float(
            np.mean([bool(s.ranked) and s.ranked[0] in s.run.truth for s in planted])
        ),
        "first_cause_real": float(np.mean([s.ranked[0] in s.run.truth for s in claimed])),
        "problem_recall": float((p[:, problem][problems_true] >= 0.5).mean()),
        "healthy_clean": float(
            np.mean(
                [
                    all(s.scores.get(i, 0.0) < 0.5 for i in ids if BY_ID[i].kind == "problem")
                    for s in healthy
                ]
            )
        ),
        "ece": ece(p.ravel(), y.ravel()),
        "ece_reported": ece(*reported_pairs(scored, ids)),
        "brier": float(np.mean((p - y) ** 2)),
    }


def per_cause(scored: list[Scored], title: str) -> None:
    print(f"\n{title}")
    print(f"{'cause':<28} {'runs':>5} {'top-1':>6} {'top-3':>6} {'recall@.5':>10}")
    for cause in CAUSES:
        mine = [s for s in scored if cause.id in s.run.planted]
        truth = [s for s in scored if cause.id in s.run.truth]
        if not mine:
            continue
        top1 = np.mean([cause.id in s.ranked[:1] for s in mine])
        top3 = np.mean([cause.id in s.ranked[:3] for s in mine])
        recall = np.mean([s.scores.get(cause.id, 0.0) >= 0.5 for s in truth])
        print(f"{cause.id:<28} {len(mine):>5} {top1:>6.2f} {top3:>6.2f} {recall:>10.2f}")


def held_out_folds(
    runs: list[ScenarioRun],
    rows: dict[str, Row],
    key: Callable[[ScenarioRun], str],
    folds: list[str],
) -> dict[str, list[Scored]]:
    """Each fold (a value of `key`) scored by a model fitted on the runs outside it, pooled."""
    pooled: dict[str, list[Scored]] = {view: [] for view in VIEWS}
    for fold in folds:
        kept = [rows[run.name] for run in runs if key(run) != fold]
        left = [run for run in runs if key(run) == fold]
        if not kept or not left:
            continue
        model = cause_model.parse(fit(kept, verbose=False))
        print(f"  fold {fold}: fitted on {len(kept)} runs, scoring {len(left)}")
        for view in VIEWS:
            pooled[view].extend(score(left, model, view))
    return pooled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="heldout", choices=["heldout", "fit", "all"])
    split = parser.parse_args().split
    model = cause_model.load()
    fitted = [run for run in load_runs(split) if run.generator == FITTED_GENERATOR]
    in_family = {view: score(fitted, model, view) for view in VIEWS}
    print(f"In family: model {model.version} on the {split} part")
    runs = load_runs("all")
    rows = {run.name: row_of(run) for run in runs}
    first = [run for run in runs if run.generator == FITTED_GENERATOR]
    print("Leave one family out:")
    families = sorted({run.family for run in first})
    lofo = held_out_folds(first, rows, lambda run: run.family, families)
    print("Other generator (fitted on the first, scoring the second):")
    others = [g for g in GENERATORS if g != FITTED_GENERATOR]
    other = held_out_folds(runs, rows, lambda run: run.generator, others)
    per_cause(in_family["history"], "In family, history only")
    per_cause(lofo["history"], "Leave one family out, history only")
    per_cause(lofo["re-evaluated"], "Leave one family out, re-evaluated")
    per_cause(other["history"], "Other generator, history only")
    keys = (
        "top1",
        "top3",
        "top1_identifiable",
        "top1_reeval_causes",
        "top1_any_true",
        "first_cause_real",
        "problem_recall",
        "healthy_clean",
        "ece",
        "ece_reported",
        "brier",
    )
    for view in VIEWS:
        columns = [metrics(scored[view], view) for scored in (in_family, lofo, other)]
        heads = ("in family", "out of family", "other generator")
        print(f"\n{view:<30} " + " ".join(f"{h:>15}" for h in heads) + f" {'target (out)':>13}")
        for key in keys:
            target = TARGETS.get((view, key))
            bound = "<=" if key.startswith("ece") else ">="
            mark = "" if target is None else f"{bound} {target:.2f}"
            values = " ".join(f"{c[key]:>15.3f}" for c in columns)
            print(f"{key:<30} {values} {mark:>13}")


if __name__ == "__main__":
    main()
