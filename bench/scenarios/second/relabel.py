"""Relabel the benign training-time causes of stored second-generator runs.

    python -m bench.scenarios.second.relabel

Until the labels read the recipe's behaviour (dropout or label smoothing, augmentation, batch
norm) from the recipe itself, only the plants that declared it could have a benign cause: a
small-validation run with dropout 0.1 that explains half of its gap was never labelled
`regularization_train_only`. Each run with such behaviour is retrained from its stored recipe
and seed (checked against its stored history, and left alone if it differs), and only its
training-time causes are recomputed; the reruns behind every other label are not needed.
"""

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.scenarios.reprobe import replant_second, same_history
from bench.scenarios.second.labels import TRAIN_TIME_CAUSES, train_time_causes
from bench.scenarios.suite import RUNS


def relabel(path: Path) -> str:
    import torch

    from bench.scenarios.second.loop import train

    torch.set_num_threads(1)
    document = json.loads(path.read_text())
    planted = replant_second(document)
    if isinstance(planted, str):
        return f"{path.name}: {planted}; left as it was"
    data, recipe = planted
    if not any(recipe.behaviour.values()):
        return f"{path.name}: nothing trains differently"
    result = train(data, recipe, document["seed"])
    if not same_history(document["history"]["epochs"], result["epochs"]):
        return f"{path.name}: the retrained run differs from the stored history; left as it was"
    before = set(document["truth"])
    after = (before - set(TRAIN_TIME_CAUSES)) | train_time_causes(result, recipe.behaviour)
    if after == before:
        return f"{path.name}: unchanged"
    document["truth"] = sorted(after)
    path.write_text(json.dumps(document, separators=(",", ":")))
    return f"{path.name}: {sorted(before - after)} -> {sorted(after - before)}"


def main() -> None:
    with ProcessPoolExecutor(2) as pool:
        for line in pool.map(relabel, sorted(RUNS.glob("second-*.json"))):
            print(line, flush=True)


if __name__ == "__main__":
    main()
