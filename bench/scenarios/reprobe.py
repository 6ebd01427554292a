"""Recompute the probe reports of stored scenario runs, after a fix to how they were probed.

    python -m bench.scenarios.reprobe second      # every run of the second generator
    python -m bench.scenarios.reprobe augmented   # runs with a measured augmentation
    python -m bench.scenarios.reprobe copies      # runs whose validation has copies in training
    python -m bench.scenarios.reprobe regression  # runs of a regression task
    python -m bench.scenarios.reprobe classification  # runs of a classification task

Each run is retrained from its stored recipe and seed (the runs are deterministic; the run is
checked against its stored history and left alone if it differs) and only its probe report is
replaced: labels and histories stay. These fixes needed it:
- `second`: until the generator kept a copy of the model where the logged run ended, its probe
  re-evaluated the model after the counterfactual continuation (the extra epochs that label
  "not converged"), which the history never shows: a run early-stopped at epoch 2 was
  re-evaluated after epoch 7.
- `augmented` (both generators' runs with a measured augmentation): until the probe compared the
  training inputs before augmentation, copies and the shift between the splits were looked for
  in an augmented draw; until it judged training labels on them, a model confidently wrong
  about masked or noised inputs counted as rejecting their labels.
- `copies`: until the probe measured how often copies occur by chance in the data (within
  training), copies natural to a small tabular set counted as leakage; only runs whose
  validation has copies can change.
- `regression`: until the probe counted gross residuals as rejected labels, regression runs
  had no label-noise measure at all; until it measured the residuals' share of the targets'
  spread, finding no gross residuals read as a measurement on models that learned nothing.
- `classification`: until the probe counted labels the model finds at most a third as likely
  as the class it predicts, it counted only confident rejections, which a model trained on
  heavy label noise in few classes never makes.
"""

import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.scenarios.suite import RUNS, plant_of

if TYPE_CHECKING:
    from bench.scenarios.second.data import Data
    from bench.scenarios.second.loop import Recipe

MATCH = 1e-6  # relative difference allowed between a retrained and a stored training loss


def same_history(stored: list[dict[str, Any]], again: list[dict[str, Any]]) -> bool:
    a = [row["train_loss"] for row in stored]
    b = [row["train_loss"] for row in again]
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=MATCH, abs_tol=1e-12)
        for x, y in zip(a, b, strict=True)
    )


def replant_second(document: dict[str, Any]) -> "tuple[Data, Recipe] | str":
    """A second-generator run's data and recipe, remade by its plant, or why they cannot be."""
    from bench.scenarios.second.plants import PLANTS

    cause, variant = plant_of(document["name"])
    data, recipe, _, _ = PLANTS[cause](variant, document["seed"])
    if asdict(recipe) != document["recipe"]:
        return "its plant no longer makes the stored recipe"
    return data, recipe


def _second(document: dict[str, Any]) -> dict[str, Any] | str | None:
    from bench.scenarios.second.generate import probe
    from bench.scenarios.second.loop import train

    planted = replant_second(document)
    if isinstance(planted, str):
        return planted
    data, recipe = planted
    result = train(data, recipe, document["seed"])
    if not same_history(document["history"]["epochs"], result["epochs"]):
        return "the retrained run differs from the stored history"
    return probe(data, recipe, result, document["seed"])


def _first(document: dict[str, Any]) -> dict[str, Any] | str | None:
    from bench.scenarios.generate import probe, replant, train

    planted = replant(document)
    if isinstance(planted, str):
        return planted
    split, recipe = planted
    result = train(split, recipe, document["seed"])
    if not same_history(document["history"]["epochs"], result["epochs"]):
        return "the retrained run differs from the stored history"
    return probe(split, recipe, result, document["seed"])


def reprobe(path: Path) -> str:
    import torch

    torch.set_num_threads(1)
    document: dict[str, Any] = json.loads(path.read_text())
    second = document.get("generator") == "second"
    report = _second(document) if second else _first(document)
    if isinstance(report, str):
        return f"{path.name}: {report}; left as it was"
    document["probe"] = report
    path.write_text(json.dumps(document, separators=(",", ":")))
    return f"{path.name}: probe recomputed"


def _augmented(path: Path) -> bool:
    document = json.loads(path.read_text())
    probe = document.get("probe") or {}
    return bool((probe.get("decomposition") or {}).get("augmentation_effect"))


def _copies(path: Path) -> bool:
    leakage = (json.loads(path.read_text()).get("probe") or {}).get("leakage") or {}
    return bool(leakage.get("near_duplicates"))


def _task(path: Path) -> str | None:
    return (json.loads(path.read_text()).get("probe") or {}).get("task")


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which == "second":
        paths = sorted(RUNS.glob("second-*.json"))
    elif which == "augmented":
        paths = [p for p in sorted(RUNS.glob("*.json")) if _augmented(p)]
    elif which == "copies":
        paths = [p for p in sorted(RUNS.glob("*.json")) if _copies(p)]
    elif which in ("regression", "classification"):
        paths = [p for p in sorted(RUNS.glob("*.json")) if _task(p) == which]
    else:
        sys.exit(
            "usage: python -m bench.scenarios.reprobe "
            "second|augmented|copies|regression|classification"
        )
    with ProcessPoolExecutor(2) as pool:
        for line in pool.map(reprobe, paths):
            print(line, flush=True)


if __name__ == "__main__":
    main()
