"""The second scenario generator: other data, models and habits than the first, causes labelled
by counterfactual reruns.

    python -m bench.scenarios.second.generate      # needs torch and scikit-learn (CPU is fine)

Every run is trained, then continued past its end, rerun with the learning rate / 10 and x 10
and with a model four times as wide; `labels.label` turns what helped on a held-back test set
into the run's true causes. A planted cause that its counterfactual does not confirm is retried
with the next seed, then dropped; a healthy control must come out with no problem cause. Runs go
to `bench/scenarios/runs/` beside the first generator's, marked `"generator": "second"` and
with their family (the kind of data), so that bench/accuracy.py can leave either out.
"""

import math
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from bench.scenarios.driver import jobs, write_runs
from bench.scenarios.second.data import Data
from bench.scenarios.second.labels import EXPLODED, Reruns, label, lower_rates
from bench.scenarios.second.loop import Recipe, augment, train
from bench.scenarios.second.plants import PLANTS, Plant
from bench.scenarios.suite import RUNS

HELD_OUT = {3}  # variant indices (mod 4) scored in family
ATTEMPTS = 3
MAX_WIDTH = {"resnet": 32, "transformer": 64}  # the wider rerun, within a CPU's means
CONTINUE = 0.5  # continue for this share of the run's epochs (at least MIN_CONTINUE)
MIN_CONTINUE = 5


def _best_test(data: Data, recipe: Recipe, seed: int) -> tuple[float | None, float | None]:
    result = train(data, recipe, seed)
    test = np.array([o["test_loss"] for o in result["oracle"]], dtype=float)
    if len(test) == 0 or not np.all(np.isfinite(test)) or np.max(test) > 1e6:
        return None, None
    return float(np.min(test)), float(result["oracle"][-1]["train_eval"])


def reruns(data: Data, recipe: Recipe, seed: int) -> Reruns:
    base = replace(recipe, patience=None, lr_growth=1.0)
    down, _ = _best_test(data, base.scaled_lr(0.1), seed)
    up, _ = _best_test(data, base.scaled_lr(10.0), seed)
    width = min(4 * recipe.width, MAX_WIDTH.get(recipe.arch, 4 * recipe.width))
    wider, wider_train = _best_test(data, replace(base, width=width), seed)
    return Reruns(down, up, wider, wider_train)


def lowered(data: Data, recipe: Recipe, seed: int) -> Reruns:
    """A diverged run's rerun at ever lower rates, a decade at a time with its schedule kept,
    until one trains to a finite test loss (a rate 5000 times the usual needs several)."""
    for factor in lower_rates(recipe.lr_growth):
        best, _ = _best_test(data, recipe.scaled_lr(factor), seed)
        if best is not None:
            return Reruns(None, None, None, None, lr_lower=best)
    return Reruns(None, None, None, None)


def config_for(data: Data, recipe: Recipe, extra: dict[str, Any], variant: int) -> dict[str, Any]:
    """What a user would put in `config`: everything on some runs, the bare minimum on others."""
    config: dict[str, Any] = {
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.lr,
        "optimizer": recipe.optimizer,
        "loss": "cross_entropy" if data.task == "classification" else "mse",
    }
    if variant % 3 == 2:
        return config
    config |= {
        "train_size": len(data.x_train),
        "val_size": len(data.x_val),
        "epochs": recipe.epochs,
    }
    config |= {"architecture": recipe.arch, "lr_schedule": recipe.schedule}
    if data.task == "classification":
        config["num_classes"] = data.num_classes
    for key, value in (
        ("dropout", recipe.dropout),
        ("label_smoothing", recipe.label_smoothing),
        ("weight_decay", recipe.weight_decay),
        ("gradient_clip", recipe.clip),
        ("early_stopping_patience", recipe.patience),
        ("batch_norm", recipe.batch_norm),
    ):
        if value:
            config[key] = value
    if recipe.augment != "none":
        config["augmentation"] = recipe.augment
    if recipe.val_every > 1:
        config["val_every"] = recipe.val_every
    return {**config, **extra}


def probe(data: Data, recipe: Recipe, result: dict[str, Any], seed: int) -> dict[str, Any] | None:
    """The workers' probe report on the final model (what re-evaluation sees)."""
    import torch

    from bench.scenarios.probing import worker_report

    raw = None
    if recipe.augment != "none":
        generator = torch.Generator().manual_seed(seed)
        raw = augment(torch.as_tensor(data.x_train), recipe, generator).numpy()
    rows = [r for r in result["epochs"] if math.isfinite(r["train_loss"])]
    validated = [r for r in rows if "val_loss" in r and math.isfinite(r["val_loss"])]
    return worker_report(
        result["model"],
        raw if raw is not None else data.x_train,
        data.y_train,
        data.x_val,
        data.y_val,
        x_train_raw=data.x_train if raw is not None else None,
        task=data.task,
        batch_size=recipe.batch_size,
        label_smoothing=recipe.label_smoothing,
        reported=(
            rows[-1]["train_loss"] if rows else None,
            validated[-1]["val_loss"] if validated else None,
        ),
    )


def generate(job: tuple[str, int]) -> dict[str, Any] | None:
    import torch

    from app.analysis.catalog import CAUSES

    torch.set_num_threads(1)
    problems = {c.id for c in CAUSES if c.kind == "problem"}
    cause, variant = job
    plant: Plant = PLANTS[cause]
    for attempt in range(ATTEMPTS):
        seed = 7919 * variant + 31 * attempt + sum(map(ord, cause))
        data, recipe, extra, flags = plant(variant, seed)
        extra_epochs = max(MIN_CONTINUE, int(CONTINUE * recipe.epochs))
        result = train(data, recipe, seed, extra_epochs=extra_epochs)
        config = config_for(data, recipe, extra, variant)
        losses = [r["train_loss"] for r in result["epochs"]]
        finite = all(math.isfinite(x) and abs(x) <= EXPLODED for x in losses)
        again = reruns(data, recipe, seed) if finite else lowered(data, recipe, seed)
        truth = label(
            result, again, {**config, "val_size": len(data.x_val)}, {**recipe.behaviour, **flags}
        )
        found = truth & problems
        if cause == "healthy" and len(found) == 1:
            # A control that turned out to have one problem by itself: kept as a natural
            # case of that problem (real runs are mostly like this), under its own name.
            planted, name = sorted(found), f"second-natural-{min(found)}-{variant}"
        elif cause == "healthy" and not found:
            planted, name = [], f"second-healthy-{variant}"
        elif cause != "healthy" and cause in truth:
            planted, name = [cause], f"second-{cause}-{variant}"
        else:
            continue
        return {
            "name": name,
            "generator": "second",
            "family": data.family,
            "split": "heldout" if variant % 4 in HELD_OUT else "fit",
            "planted": planted,
            "truth": sorted(truth),
            "seed": seed,
            "recipe": asdict(recipe),
            "history": {
                "name": name,
                "task": data.task,
                "config": config,
                "epochs": result["epochs"],
                "steps": result["steps"],
            },
            "probe": probe(data, recipe, result, seed),
        }
    return None


VARIANTS = 4
MORE_VARIANTS = {"healthy": 16}


def main() -> None:
    """`python -m bench.scenarios.second.generate [CAUSE ...]` regenerates only those causes."""
    write_runs(
        jobs(PLANTS, VARIANTS, MORE_VARIANTS),
        generate,
        RUNS,
        "its counterfactual never confirmed it",
        lambda run: f"{run['name']:<40} {run['family']:<14} truth={','.join(run['truth']) or '-'}",
    )


if __name__ == "__main__":
    main()
