"""Diagnosis accuracy and calibration on the scenario suite.

    python bench/accuracy.py              # the held-out part (default)
    python bench/accuracy.py --split fit  # the part the model was fitted on

Each part is scored twice: from the loss history alone, and with the run's probe report (the re-
evaluation of its checkpoint on its data). Top-1 / top-3: the planted cause is the first / among the
first three causes reported. Recall: share of true problem causes reported at confidence >= 0.5.
False alarms: healthy runs with any problem cause at >= 0.5. ECE: expected calibration error over
every (run, cause) pair in ten confidence bins; Brier: mean squared error of those confidences.
Last, the runs are scored with their validation removed (the training-only models).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.analysis import diagnose
from app.analysis import model as cause_model
from app.analysis.catalog import BY_ID, CAUSES, TRAINING_CURVE_CAUSES
from app.analysis.diagnose import features_of
from bench.scenarios.suite import HISTORY_IDENTIFIABLE, REEVAL_IDENTIFIABLE, load_runs


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = index == b
        if chosen.any():
            total += chosen.sum() / len(p) * abs(p[chosen].mean() - y[chosen].mean())
    return total


def evaluate(split: str, reeval: bool) -> dict[str, float]:
    runs = load_runs(split)
    model = cause_model.load()
    ids = [c.id for c in CAUSES]
    probs, truths, rows = [], [], []
    for run in runs:
        history = run.history if reeval else run.without_probe()
        scores = model.predict(features_of(history)[2])
        ranked = [c.id for c in diagnose(history, model).causes]
        probs.append([scores.get(i, 0.0) for i in ids])
        truths.append([i in run.truth for i in ids])
        rows.append((run, ranked, scores))
    p, y = np.array(probs), np.array(truths, dtype=float)
    planted = [(run, ranked) for run, ranked, _ in rows if run.planted]
    identifiable = [(r, k) for r, k in planted if r.planted & HISTORY_IDENTIFIABLE]
    reevaluable = [(r, k) for r, k in planted if r.planted & REEVAL_IDENTIFIABLE]
    healthy = [(run, scores) for run, _, scores in rows if not run.planted]
    problem_cols = [j for j, i in enumerate(ids) if BY_ID[i].kind == "problem"]
    problems_true = y[:, problem_cols] == 1
    results = {
        "runs": len(runs),
        "top1": np.mean([bool(r.planted & set(k[:1])) for r, k in planted]),
        "top3": np.mean([bool(r.planted & set(k[:3])) for r, k in planted]),
        "top1_identifiable": np.mean([bool(r.planted & set(k[:1])) for r, k in identifiable]),
        "top1_reeval_causes": np.mean([bool(r.planted & set(k[:1])) for r, k in reevaluable]),
        "problem_recall": float((p[:, problem_cols][problems_true] >= 0.5).mean()),
        "healthy_clean": np.mean(
            [all(s.get(i, 0) < 0.5 for i in ids if BY_ID[i].kind == "problem") for _, s in healthy]
        )
        if healthy
        else float("nan"),
        "ece": ece(p.ravel(), y.ravel()),
        "brier": float(np.mean((p - y) ** 2)),
    }
    mode = "with re-evaluation (probe reports)" if reeval else "history only"
    print(
        f"\nScenario suite, {split} part, {mode}: {len(runs)} runs "
        f"({len(planted)} with a planted cause, {len(healthy)} healthy), model {model.version}\n"
    )
    print(f"{'cause':<28} {'runs':>5} {'top-1':>6} {'top-3':>6} {'recall@.5':>10} {'brier':>6}")
    for j, cause in enumerate(ids):
        mine = [(r, k) for r, k in planted if cause in r.planted]
        truth = y[:, j] == 1
        top1 = f"{np.mean([cause in k[:1] for _, k in mine]):.2f}" if mine else "-"
        top3 = f"{np.mean([cause in k[:3] for _, k in mine]):.2f}" if mine else "-"
        recall = f"{(p[truth, j] >= 0.5).mean():.2f}" if truth.any() else "-"
        brier = float(np.mean((p[:, j] - y[:, j]) ** 2))
        print(f"{cause:<28} {len(mine):>5} {top1:>6} {top3:>6} {recall:>10} {brier:6.3f}")
    print()
    for key in (
        "top1",
        "top3",
        "top1_identifiable",
        "top1_reeval_causes",
        "problem_recall",
        "healthy_clean",
        "ece",
        "brier",
    ):
        print(f"{key:<20} {results[key]:.3f}")
    print(
        "\ntargets (held-out): top3 >= 0.9, top1_identifiable >= 0.8, healthy_clean >= 0.9, "
        "ece <= 0.08; with re-evaluation top1_reeval_causes >= 0.9"
    )
    return {k: float(v) for k, v in results.items()}


def evaluate_training_only(split: str) -> dict[str, float]:
    """The same runs with their validation removed, as a script that logs none reports them:
    only the causes a training curve shows are ranked, by the training-only models."""
    runs = load_runs(split)
    model = cause_model.load()
    ids = list(TRAINING_CURVE_CAUSES)
    probs, truths, tops, healthy = [], [], [], []
    for run in runs:
        history = run.training_only()
        scores = model.predict(features_of(history)[2], training_only=True)
        ranked = [c.id for c in diagnose(history, model).causes]
        probs.append([scores.get(i, 0.0) for i in ids])
        truths.append([i in run.truth for i in ids])
        if run.planted & set(ids):
            tops.append(bool(run.planted & set(ranked[:1])))
        if not run.planted:
            healthy.append(all(scores.get(i, 0.0) < 0.5 for i in ids))
    p, y = np.array(probs), np.array(truths, dtype=float)
    results = {
        "top1": float(np.mean(tops)),
        "recall": float((p[y == 1] >= 0.5).mean()),
        "healthy_clean": float(np.mean(healthy)),
        "ece": ece(p.ravel(), y.ravel()),
        "brier": float(np.mean((p - y) ** 2)),
    }
    print(
        f"\nTraining curve only (validation removed), {split} part: {len(tops)} runs with one of "
        f"{', '.join(ids)} planted, {len(healthy)} healthy"
    )
    print(f"{'cause':<28} {'runs':>5} {'top-1':>6} {'recall@.5':>10} {'brier':>6}")
    for j, cause in enumerate(ids):
        mine = [k for k, run in enumerate(runs) if cause in run.planted]
        top1 = np.mean([p[k, j] == p[k].max() and p[k, j] >= 0.05 for k in mine])
        truth = y[:, j] == 1
        recall = f"{(p[truth, j] >= 0.5).mean():.2f}" if truth.any() else "-"
        brier = float(np.mean((p[:, j] - y[:, j]) ** 2))
        print(f"{cause:<28} {len(mine):>5} {top1:>6.2f} {recall:>10} {brier:6.3f}")
    for key, value in results.items():
        print(f"{key:<20} {value:.3f}")
    print("targets (held-out): top1 >= 0.8, healthy_clean >= 0.9, ece <= 0.08")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="heldout", choices=["heldout", "fit", "all"])
    split = parser.parse_args().split
    without = evaluate(split, reeval=False)
    with_probe = evaluate(split, reeval=True)
    print(f"\n{'':<20} {'history only':>13} {'re-evaluated':>13}")
    for key in ("top1", "top3", "top1_reeval_causes", "healthy_clean", "ece"):
        print(f"{key:<20} {without[key]:>13.3f} {with_probe[key]:>13.3f}")
    evaluate_training_only(split)


if __name__ == "__main__":
    main()
