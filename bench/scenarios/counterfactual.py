"""Counterfactual labels for the first generator's runs (issue 11): a problem whose fix is a
rerun is true of a run when the rerun helps, as the second generator labels its runs.

    python -m bench.scenarios.counterfactual measure   # retrain and rerun every judged run
    python -m bench.scenarios.counterfactual label     # relabel from the stored measurements

The first generator labelled each run by oracle checks of its planted phenomenon, so a cause it
did not plant was never looked for: an SGD run stopped after 7 epochs while still falling was
"not converged" and never "learning rate too low", though ten times the rate would have helped
it more than seven more epochs. Here every run is retrained from its stored recipe and seed
(the runs are deterministic), continued past its end, and rerun with the learning rate / 10
and x 10; the validation losses go into the run's file (`reruns`), and `label` derives from them
the causes whose fix those reruns are (issue 11): `not_converged` and `premature_early_stopping`
(train longer), `lr_too_high` and `lr_too_low`. The thresholds are the second generator's
(`second/labels.py`).

A run whose loss diverged (NaN or exploded) is rerun at ever lower rates, a decade at a time with
its schedule kept, until one trains to a finite loss: a rate of 1000 needs more than one decade,
and "lower the learning rate" is its fix when that rerun reaches a validation loss the diverged
run never did. A rate that grows without end (an exponential warm-up) outgrows any lower start:
no rate fixes its schedule, and it keeps only its plant, `numerical_instability`.

Underfitting keeps its planted label. The second generator's counterfactual for it, a model four
times as wide, was tried here and not kept: 14 of the 17 underfitting plants (frozen layers,
weight decay 0.5) are not capacity problems and a wider model does not fix them, while it
"fixed" 13 runs merely short of steps (a wider model learns faster at a tiny learning rate),
and the models fitted on those labels read a high learning rate as underfitting.

The first generator holds back no test set (its small data sets are split in two), so the
reruns are judged on the validation set, which the reruns never train on and the engine never
sees them scored on. Where the plant corrupts that set (leaked, easier or differently
preprocessed validation) or it is too small to judge by (under a hundred samples), the run keeps
its oracle labels. Regenerating the runs with a held-back test set to judge on was tried and not
kept: fitted on those labels, the engine read the other generator worse (docs/diagnosis.md,
fifth pass). The preprocessing plants' overfitting label, read off their corrupted
validation set, was measured the same way: retrained with validation as it was before the
transform, none of the 20 gains anything on it from its best checkpoint (17 are labelled
overfitting). Relabelled so, the models learned that a rise after the minimum is a mismatch as
often as an overfit, as the suite's plant counts say and real runs do not, and read three real
overfitting logs wrong; the labels were kept (docs/diagnosis.md, sixth pass).
"""

import json
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.scenarios.second.labels import (
    EXPLODED,
    HELPS,
    LR_HELPS,
    MATERIAL,
    helps,
    lower_helps,
    lower_rates,
)
from bench.scenarios.suite import RUNS, plant_of

CORRUPTED_VALIDATION = frozenset({"data_leakage", "easier_validation", "preprocessing_mismatch"})
SMALL_VALIDATION = 100  # fewer validation samples than this judge no rerun
CONTINUE = 0.5  # continue for this share of the run's epochs (at least MIN_CONTINUE)
MIN_CONTINUE = 5
JUDGED = frozenset({"not_converged", "premature_early_stopping", "lr_too_high", "lr_too_low"})


def judged(document: dict[str, Any]) -> bool:
    """Whether the run's validation set can judge a rerun."""
    cause, _ = plant_of(document["name"])
    config = document["history"]["config"]
    return (
        document.get("generator", "first") == "first"
        and cause not in CORRUPTED_VALIDATION
        and config.get("val_size", 0) >= SMALL_VALIDATION
    )


def diverged(rows: list[dict[str, Any]]) -> bool:
    """Whether a run's losses went non-finite or exploded."""
    losses = np.array([[row["train_loss"], row["val_loss"]] for row in rows], dtype=float)
    return bool(not np.all(np.isfinite(losses)) or np.max(np.abs(losses)) > EXPLODED)


def _best(rows: list[dict[str, Any]]) -> float | None:
    """A rerun's best validation loss; None where it diverged."""
    val = np.array([row["val_loss"] for row in rows], dtype=float)
    if len(val) == 0 or not np.all(np.isfinite(val)) or np.max(val) > EXPLODED:
        return None
    return float(np.min(val))


def extra_epochs(recipe: Any) -> int:
    """How long a run is continued past its end for the counterfactual "train longer"."""
    return max(MIN_CONTINUE, int(CONTINUE * recipe.epochs))


def reruns(split: Any, recipe: Any, seed: int, result: dict[str, Any]) -> dict[str, Any]:
    """What the labels need: the run as trained and continued (`result`, from `train` with
    `extra_epochs`) and its best validation losses at lr / 10 and lr x 10."""
    from bench.scenarios.generate import train

    base = replace(recipe, early_stopping_patience=None, lr_growth=1.0)
    return {
        "judged_on": "validation",
        "val": [row["val_loss"] for row in result["epochs"]],
        "continued": result["continued"],
        "stopped_early": result["stopped_early"],
        "lr_down": _best(train(split, replace(base, lr=recipe.lr * 0.1), seed)["epochs"]),
        "lr_up": _best(train(split, replace(base, lr=recipe.lr * 10.0), seed)["epochs"]),
    }


def lowered(split: Any, recipe: Any, seed: int, result: dict[str, Any]) -> dict[str, Any]:
    """What the labels need of a diverged run: its validation losses and the best validation
    loss of the first rerun, a decade lower at a time, that did not diverge (None if none)."""
    from bench.scenarios.generate import train

    lower = None
    for factor in lower_rates(recipe.lr_growth):
        rows = train(split, replace(recipe, lr=recipe.lr * factor), seed)["epochs"]
        if not diverged(rows):
            lower = _best(rows)
            break
    return {
        "judged_on": "validation",
        "val": [row["val_loss"] for row in result["epochs"]],
        "diverged": True,
        "lr_lower": lower,
    }


def measure(document: dict[str, Any]) -> dict[str, Any] | str:
    """Retrain a stored run, continue it, and rerun it at two other learning rates; or, where
    it diverged, at lower ones until it does not."""
    import torch

    from bench.scenarios.generate import replant, train

    torch.set_num_threads(1)
    planted = replant(document)
    if isinstance(planted, str):
        return planted
    split, recipe = planted
    seed = document["seed"]
    if diverged(document["history"]["epochs"]):
        return lowered(split, recipe, seed, train(split, recipe, seed))
    return reruns(split, recipe, seed, train(split, recipe, seed, extra_epochs(recipe)))


def found(reruns: dict[str, Any]) -> set[str]:
    """The judged causes the reruns show to be true of the run."""
    val = np.array(reruns["val"], dtype=float)
    if reruns.get("diverged"):
        return lower_helps(val, reruns["lr_lower"])
    continued = np.array(reruns["continued"], dtype=float)
    true: set[str] = set()
    if len(val) == 0 or not np.all(np.isfinite(val)):
        return true
    floor = MATERIAL * float(val[0])
    best = float(np.min(val))
    if len(continued) >= 3 and np.all(np.isfinite(continued)):
        if reruns["stopped_early"]:
            if helps(float(np.min(continued)), best, HELPS, floor):
                true.add("premature_early_stopping")
        elif helps(float(np.median(continued[-3:])), float(np.median(val[-3:])), HELPS, floor):
            true.add("not_converged")
    # A learning rate is not too high and too low at once: when both reruns help, the run's
    # outcome is chance (a chaotic start), not its learning rate.
    down = helps(reruns["lr_down"], best, LR_HELPS, floor)
    up = helps(reruns["lr_up"], best, LR_HELPS, floor)
    if down and not up:
        true.add("lr_too_high")
    if up and not down:
        true.add("lr_too_low")
    return true


def label(document: dict[str, Any]) -> list[str]:
    """The run's causes: its planted cause, the oracle labels of the causes no rerun judges, and
    the judged causes its reruns show."""
    reruns = document.get("reruns")
    truth = set(document.get("oracle_truth", document["truth"]))
    planted = set(document.get("oracle_planted", document["planted"]))
    if not reruns:
        return sorted(truth)
    return sorted((truth - JUDGED) | found(reruns) | planted)


def relabelled(document: dict[str, Any], problems: frozenset[str]) -> dict[str, Any]:
    """The run with its counterfactual labels. A healthy control that turns out to have a
    problem is kept as a natural case of it (real runs are mostly like this), as the second
    generator keeps its own: its problems are what it plants, and its name says so."""
    document.setdefault("oracle_truth", document["truth"])
    document.setdefault("oracle_planted", document["planted"])
    truth = label(document)
    natural = sorted(set(truth) & problems) if not document["oracle_planted"] else []
    cause, variant = plant_of(document["name"])
    name = f"natural-{natural[0]}-{variant}" if natural else f"{cause}-{variant}"
    document |= {"name": name, "truth": truth, "planted": natural or document["oracle_planted"]}
    document["history"]["name"] = name
    return document


def _measure(path: Path) -> str:
    document = json.loads(path.read_text())
    if not judged(document):
        return f"{path.name}: not judged"
    reruns = measure(document)
    if isinstance(reruns, str):
        return f"{path.name}: {reruns}; left as it was"
    document["reruns"] = reruns
    path.write_text(json.dumps(document, separators=(",", ":")))
    return f"{path.name}: {sorted(found(reruns))}"


def _label(path: Path, problems: frozenset[str]) -> str | None:
    document = json.loads(path.read_text())
    if document.get("generator", "first") != "first":
        return None
    before = (document["name"], document["truth"])
    document = relabelled(document, problems)
    path.unlink()
    (path.parent / f"{document['name']}.json").write_text(
        json.dumps(document, separators=(",", ":"))
    )
    if before == (document["name"], document["truth"]):
        return None
    after = ",".join(document["truth"])
    return f"{before[0]}: {','.join(before[1])} -> {document['name']}: {after}"


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    paths = sorted(p for p in RUNS.glob("*.json") if not p.name.startswith("second-"))
    if which == "measure":
        with ProcessPoolExecutor(2) as pool:
            for line in pool.map(_measure, paths):
                print(line, flush=True)
    elif which == "label":
        from app.analysis.catalog import CAUSES

        problems = frozenset(c.id for c in CAUSES if c.kind == "problem")
        for path in paths:
            if line := _label(path, problems):
                print(line)
    else:
        sys.exit("usage: python -m bench.scenarios.counterfactual measure|label")


if __name__ == "__main__":
    main()
