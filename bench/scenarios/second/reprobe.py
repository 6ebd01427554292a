"""Recompute the probe reports of the stored second-generator runs on the right checkpoint.

    python -m bench.scenarios.second.reprobe

Until the generator kept a copy of the model where the logged run ended, its probe re-evaluated
the model after the counterfactual continuation (the extra epochs that label "not converged"),
which the history never shows: a run early-stopped at epoch 2 was re-evaluated after epoch 7.
Each run is retrained from its stored recipe and seed without the continuation (the logged
epochs consume the same random numbers, so they come out the same; the run is checked against
its stored history) and its probe report replaced. Labels, histories and everything else stay.
"""

import json
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.scenarios.suite import RUNS

MATCH = 1e-6  # relative difference allowed between a retrained and a stored training loss


def _cause(name: str) -> tuple[str, int]:
    """The plant a stored run came from: natural runs are healthy controls that came out with
    one problem by themselves."""
    stem, variant = name.rsplit("-", 1)
    cause = stem.removeprefix("second-")
    return ("healthy" if cause.startswith("natural-") else cause), int(variant)


def reprobe(path: Path) -> str:
    import torch

    from bench.scenarios.second.generate import probe
    from bench.scenarios.second.loop import train
    from bench.scenarios.second.plants import PLANTS

    torch.set_num_threads(1)
    document: dict[str, Any] = json.loads(path.read_text())
    cause, variant = _cause(document["name"])
    data, recipe, _, _ = PLANTS[cause](variant, document["seed"])
    if asdict(recipe) != document["recipe"]:
        return f"{path.name}: its plant no longer makes the stored recipe; left as it was"
    result = train(data, recipe, document["seed"])
    stored = [row["train_loss"] for row in document["history"]["epochs"]]
    again = [row["train_loss"] for row in result["epochs"]]
    same = len(stored) == len(again) and all(
        (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=MATCH, abs_tol=1e-12)
        for a, b in zip(stored, again, strict=True)
    )
    if not same:
        return f"{path.name}: the retrained run differs from the stored history; left as it was"
    document["probe"] = probe(data, recipe, result, document["seed"])
    path.write_text(json.dumps(document, separators=(",", ":")))
    return f"{path.name}: probe recomputed"


def main() -> None:
    paths = sorted(RUNS.glob("second-*.json"))
    with ProcessPoolExecutor(2) as pool:
        for line in pool.map(reprobe, paths):
            print(line, flush=True)


if __name__ == "__main__":
    main()
