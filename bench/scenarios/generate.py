"""Generate the scenario suite: real small trainings with each cause planted on purpose.

    python bench/scenarios/generate.py            # needs torch and scikit-learn (CPU is fine)

For every cause id of the catalog it trains several runs that differ in data set, model and
seed, plus healthy controls; it checks with oracle measurements that the planted phenomenon is
really visible (a run where it is not is retried with the next seed, then dropped), labels every
cause present in the run, and writes one small JSON per run to `bench/scenarios/runs/`, so the
tests and the benchmarks need no torch. Runs whose variant index ends in 7, 8 or 9 form the
held-out part. The causes whose fix is a rerun (train longer, another learning rate) are then
labelled by those reruns (`counterfactual.py`), as the second generator labels its runs.
"""

import json
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_digits, make_classification, make_friedman1
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from train import Recipe, Split, augmented, train

from app.analysis.catalog import CAUSES
from bench.scenarios.counterfactual import extra_epochs, judged, relabelled, reruns
from bench.scenarios.driver import jobs, write_runs
from bench.scenarios.suite import plant_of

OUT = Path(__file__).parent / "runs"
VARIANTS = 20
# Causes with more variants than VARIANTS (healthy: three times as many controls as any cause).
MORE_VARIANTS = {
    "healthy": 3 * VARIANTS,
    "numerical_instability": 30,
    **{cause: VARIANTS + 10 for cause in ("data_leakage", "label_noise_train")},
}
HELD_OUT = {7, 8, 9}
MATERIAL = 0.05  # an improvement that matters: this share of the first epoch's validation loss
DATASETS = ("digits", "blobs", "cancer", "blobs_hard", "digits", "blobs")


def dataset(name: str, seed: int, val_size: int | None = None) -> Split:
    rng = np.random.default_rng(seed)
    if name == "digits":
        x, y = load_digits(return_X_y=True)
        task, k = "classification", 10
    elif name == "cancer":
        x, y = load_breast_cancer(return_X_y=True)
        task, k = "classification", 2
    elif name == "friedman":
        x, y = make_friedman1(n_samples=1500, n_features=10, noise=1.0, random_state=seed)
        y = (y - y.mean()) / y.std()
        task, k = "regression", 0
    else:
        sep = 0.8 if name == "blobs_hard" else 1.5
        x, y = make_classification(
            n_samples=2000,
            n_features=20,
            n_informative=10,
            n_classes=4,
            class_sep=sep,
            flip_y=0.01,
            random_state=seed,
        )
        task, k = "classification", 4
    order = rng.permutation(len(x))
    n_val = val_size or len(x) // 5
    val, tr = order[:n_val], order[n_val:]
    scaler = StandardScaler().fit(x[tr])
    return Split(scaler.transform(x[tr]), y[tr], scaler.transform(x[val]), y[val], task, k)


# ----- planting: each returns (split, recipe, config) for variant i -----------------------------

Plant = Callable[[int, int], tuple[Split, Recipe, dict[str, Any]]]


def _base(i: int, seed: int, **recipe: Any) -> tuple[Split, Recipe]:
    data = DATASETS[i % len(DATASETS)]
    split = dataset(data, seed)
    hidden = ((64,), (128, 64), (32,), (96,), (64, 64), (128,))[i % 6]
    defaults: dict[str, Any] = {"hidden": hidden, "epochs": 30, "lr": 1e-3, "log_steps": i % 2 == 0}
    return split, Recipe(**{**defaults, **recipe})


def healthy(i: int, seed: int):
    """Nothing to fix: converged with a cosine schedule; some with dropout or augmentation."""
    extra: dict[str, Any] = {"lr_schedule": "cosine"}
    benign: dict[str, Any] = {}
    if i >= 40:
        # Flat and noisy, as real logs mostly are: a constant learning rate and small batches
        # long past the point of convergence, a few hundred validation samples. Epoch to
        # epoch both curves jitter by a few percent and change direction about every other
        # epoch: sampling noise, not steps that overshoot.
        data = ("blobs", "digits", "cancer", "blobs")[i % 4]
        split = dataset(data, seed, val_size=[150, 200, 120, 250][i % 4])
        recipe = Recipe(
            hidden=((64,), (128,), (32,), (48,))[i % 4],
            dropout=[0.3, 0.0, 0.5, 0.2][i % 4],
            weight_decay=[1e-3, 3e-3, 1e-3, 5e-3][i % 4],
            batch_size=[8, 16, 8, 16][i % 4],
            lr=[1e-3, 2e-3, 1e-3, 2e-3][i % 4],
            epochs=[40, 60, 80][i % 3],
            log_steps=i % 2 == 0,
        )
        return split, recipe, {"dropout": recipe.dropout} if recipe.dropout else {}
    if i >= 20:
        # Long and noisy: heavy regularization and small batches, annealed to a plateau. Real
        # logs look like this more often than the smooth curves above.
        split, recipe = _base(
            i,
            seed,
            epochs=[40, 50, 60][i % 3],
            dropout=0.5,
            augment_noise=0.5,
            batch_size=16,
            weight_decay=1e-3,
            hidden=((64,), (128,), (96,))[i % 3],
            lr=1e-3,
            cosine=True,
        )
        return split, recipe, {"dropout": 0.5, "augmentation": "gaussian noise"}
    if i >= 10 and i % 2 == 0:
        benign, extra["dropout"] = {"dropout": 0.3}, 0.3
    elif i >= 10:
        benign, extra["augmentation"] = {"augment_noise": 0.3}, "gaussian noise"
    split, recipe = _base(
        i,
        seed,
        epochs=[20, 15, 25, 20, 15, 25, 20, 15][i % 8],
        hidden=((64,), (32,), (64,), (48,))[i % 4],
        weight_decay=1e-3,
        lr=[2e-3, 3e-3, 2e-3, 1e-3, 3e-3, 2e-3, 2e-3, 3e-3][i % 8],
        cosine=True,
        **benign,
    )
    return split, recipe, extra


def regularization(i: int, seed: int):
    kind = i % 3
    if kind == 0:
        split, recipe = _base(i, seed, dropout=[0.5, 0.6][i % 2], hidden=(256, 128), epochs=30)
        return split, recipe, {"dropout": recipe.dropout}
    if kind == 1:
        split, recipe = _base(i, seed, label_smoothing=0.2, epochs=25)
        return split, recipe, {"label_smoothing": 0.2}
    split, recipe = _base(i, seed, l2_in_loss=3e-3, epochs=25)
    return split, recipe, {"l2_in_loss": True, "weight_decay": 3e-3}


def augmentation(i: int, seed: int):
    if i % 2:
        split, recipe = _base(i, seed, augment_noise=1.0, epochs=30)
    else:
        split, recipe = _base(i, seed, augment_mask=0.4, epochs=30)
    return split, recipe, {"augmentation": "gaussian noise" if i % 2 else "feature masking"}


def lag(i: int, seed: int):
    data = ("digits", "blobs", "digits", "blobs_hard", "digits", "blobs")[i % 6]
    split = dataset(data, seed)
    recipe = Recipe(
        hidden=(128,),
        optimizer="sgd",
        lr=0.02,
        momentum=0.5,
        batch_size=8,
        epochs=[12, 14, 16, 12, 14, 16][i % 6],
        cosine=True,
        log_steps=i % 2 == 0,
    )
    return split, recipe, {}


def batchnorm(i: int, seed: int):
    split, recipe = _base(
        i,
        seed,
        batch_norm=True,
        batch_size=[16, 32, 16, 32, 16, 32][i % 6],
        shuffle=False,
        epochs=20,
        cnn=i % 3 == 0 and DATASETS[i % 6] == "digits",
    )
    return split, recipe, {"batch_norm": True, "batch_size": recipe.batch_size}


def small_val(i: int, seed: int):
    data = DATASETS[i % len(DATASETS)]
    n_val = [20, 30, 25, 40, 20, 30][i % 6]
    split = dataset(data, seed, val_size=n_val)
    recipe = Recipe(
        hidden=(32,), epochs=20, lr=5e-3, weight_decay=1e-3, batch_size=16, log_steps=i % 2 == 0
    )
    return split, recipe, {"val_size": n_val}


def divergence(i: int, seed: int):
    split, recipe = _base(i, seed, hidden=(256, 256), lr=3e-3, epochs=60)
    split = replace(split, x_train=split.x_train[:400], y_train=split.y_train[:400])
    return split, recipe, {}


def beside_behaviour(i: int, recipe: Recipe) -> tuple[Recipe, dict[str, Any]]:
    """From variant VARIANTS on, leaked validation rows or noisy training labels run beside
    declared training-time behaviour, as in real scripts: dropout, or noise on the inputs.
    Validation below training is then what both can make, and which of them accounts for it
    is the decomposition's to say (`observed`). Without such runs every declared dropout read
    as the whole story: 16 of 60 runs of a throwaway generator that plants faults beside
    dropout were told "regularization, 0.91-0.99" where the labels or the split made the gap."""
    if i < VARIANTS:
        return recipe, {}
    if i % 2 == 0:
        return replace(recipe, dropout=0.3), {"dropout": 0.3}
    return replace(recipe, augment_noise=0.3), {"augmentation": "gaussian noise"}


def leakage(i: int, seed: int):
    split, recipe = _base(i, seed, hidden=(256, 128), epochs=40)
    share = [0.9, 1.0, 0.95, 1.0, 0.9, 1.0][i % 6]
    k = int(len(split.x_val) * share)
    x = np.concatenate([split.x_train[: len(split.x_train) // 3], split.x_val[:k]])
    y = np.concatenate([split.y_train[: len(split.y_train) // 3], split.y_val[:k]])
    recipe, extra = beside_behaviour(i, recipe)
    return replace(split, x_train=x, y_train=y), recipe, extra


def easier(i: int, seed: int):
    split, recipe = _base(i, seed, epochs=25)
    x = np.concatenate([split.x_train, split.x_val])
    y = np.concatenate([split.y_train, split.y_val])
    reference = LogisticRegression(max_iter=2000).fit(x, y)
    margin = reference.predict_proba(x)[np.arange(len(y)), np.searchsorted(reference.classes_, y)]
    order = np.argsort(-margin)
    n_val = len(split.x_val)
    easy = order[: n_val * 2][::2]
    rest = np.setdiff1d(np.arange(len(y)), easy)
    return Split(x[rest], y[rest], x[easy], y[easy], split.task, split.num_classes), recipe, {}


def preprocessing(i: int, seed: int):
    split, recipe = _base(i, seed, epochs=25)
    scale, shift = [(3.0, 0.0), (1.0, 1.0), (0.3, 0.5), (2.0, -1.0), (3.0, 0.5), (0.5, 1.0)][i % 6]
    return replace(split, x_val=split.x_val * scale + shift), recipe, {}


def loss_mismatch(i: int, seed: int):
    if i % 2 == 0:
        split, recipe = _base(i, seed, loss_reduction="sum", lr=1e-3 / 32, epochs=25)
        return split, recipe, {}
    split, recipe = _base(i, seed, aggregation="last_batch", batch_size=16, epochs=25)
    return split, recipe, {}


def label_noise(i: int, seed: int):
    split, recipe = _base(i, seed, epochs=25, weight_decay=1e-3, hidden=(32,))
    rng = np.random.default_rng(seed)
    y = split.y_train.copy()
    flip = rng.random(len(y)) < [0.3, 0.4, 0.35, 0.45, 0.3, 0.4][i % 6]
    y[flip] = rng.integers(0, split.num_classes, flip.sum())
    recipe, extra = beside_behaviour(i, recipe)
    return replace(split, y_train=y), recipe, extra


def overfitting(i: int, seed: int):
    """Memorizing a small training set: slowly over 60 epochs, or within the first few epochs
    of a short run at a high learning rate (as fine-tuning runs often look)."""
    if i % 3 == 0:
        split, recipe = _base(i, seed, hidden=(256, 256), lr=1e-3, epochs=60)
    elif i % 3 == 1:
        split, recipe = _base(i, seed, hidden=(256, 256), lr=1e-2, epochs=[12, 15, 20][i % 3])
    else:
        split, recipe = _base(i, seed, hidden=(512,), lr=3e-3, epochs=25)
    keep = [150, 200, 120, 250, 150, 200][i % 6]
    return replace(split, x_train=split.x_train[:keep], y_train=split.y_train[:keep]), recipe, {}


def underfitting(i: int, seed: int):
    if i % 3 == 0:
        split, recipe = _base(i, seed, frozen=True, hidden=(4,), epochs=25)
        return split, recipe, {"frozen_layers": True}
    if i % 3 == 1:
        split, recipe = _base(i, seed, weight_decay=0.5, hidden=(8,), epochs=25)
        return split, recipe, {"weight_decay": 0.5}
    split, recipe = _base(i, seed, hidden=(2,), epochs=25, lr=3e-3)
    return split, recipe, {}


def lr_high(i: int, seed: int):
    if i % 3 == 2:
        split, recipe = _base(i, seed, optimizer="sgd", momentum=0.9, lr=0.3, epochs=30)
    else:
        split, recipe = _base(i, seed, lr=[0.03, 0.05, 0.08, 0.1, 0.05, 0.03][i % 6], epochs=30)
    return split, recipe, {"learning_rate": recipe.lr, "optimizer": recipe.optimizer}


def lr_low(i: int, seed: int):
    split, recipe = _base(
        i, seed, optimizer="sgd", lr=[3e-4, 1e-4, 5e-4, 2e-4, 3e-4, 1e-4][i % 6], epochs=30
    )
    return split, recipe, {"learning_rate": recipe.lr, "optimizer": "sgd"}


def not_converged(i: int, seed: int):
    split, recipe = _base(
        i,
        seed,
        optimizer="sgd",
        lr=[0.01, 0.005, 0.01, 0.008, 0.01, 0.005][i % 6],
        momentum=0.5,
        epochs=[6, 8, 7, 6, 8, 7][i % 6],
    )
    return split, recipe, {"learning_rate": recipe.lr}


def early_stop(i: int, seed: int):
    split, recipe = _base(
        i,
        seed,
        optimizer="sgd",
        lr=0.02,
        momentum=0.5,
        epochs=40,
        early_stopping_patience=[1, 2, 1, 2, 1, 2][i % 6],
    )
    split = dataset(DATASETS[i % 6], seed, val_size=60)
    return split, recipe, {"early_stopping_patience": recipe.early_stopping_patience}


def instability(i: int, seed: int):
    """A learning rate that keeps growing: finite for a few epochs, then the loss explodes; or
    (variants 20 on) one so large that the loss is NaN from the first epoch, as in real runs
    with a learning rate of 3 on a squared error: no finite stretch, no jump to see."""
    data = ("friedman", "digits", "friedman", "blobs", "friedman", "digits")[i % 6]
    split = dataset(data, seed)
    if split.task == "regression":
        split = replace(split, y_train=split.y_train * 20, y_val=split.y_val * 20)
    if i >= VARIANTS:
        recipe = Recipe(
            hidden=((64,), (128, 64), (32,))[i % 3],
            optimizer="sgd",
            lr=[50.0, 200.0, 1000.0, 100.0, 500.0][i % 5],
            momentum=0.9,
            epochs=[10, 15, 20, 30][i % 4],
            log_steps=i % 2 == 0,
        )
        return split, recipe, {}
    recipe = Recipe(
        hidden=(64,),
        optimizer="sgd",
        lr=[0.002, 0.01, 0.003, 0.02, 0.002, 0.01][i % 6],
        momentum=0.9,
        lr_growth=[2.0, 2.5, 3.0][i % 3],
        epochs=20,
        log_steps=i % 2 == 0,
    )
    return split, recipe, {"lr_schedule": "exponential warm-up"}


PLANTS: dict[str, Plant] = {
    "healthy": healthy,
    "regularization_train_only": regularization,
    "augmentation_train_only": augmentation,
    "measurement_lag": lag,
    "batchnorm_mode": batchnorm,
    "small_validation_noise": small_val,
    "accuracy_loss_divergence": divergence,
    "data_leakage": leakage,
    "easier_validation": easier,
    "preprocessing_mismatch": preprocessing,
    "loss_computation_mismatch": loss_mismatch,
    "label_noise_train": label_noise,
    "overfitting": overfitting,
    "underfitting": underfitting,
    "lr_too_high": lr_high,
    "lr_too_low": lr_low,
    "not_converged": not_converged,
    "premature_early_stopping": early_stop,
    "numerical_instability": instability,
}


# ----- oracle labelling ---------------------------------------------------------------------------


def _arrays(result: dict[str, Any]) -> dict[str, np.ndarray]:
    rows, oracle = result["epochs"], result["oracle"]
    get = lambda rows, k: np.array([r.get(k, math.nan) for r in rows], dtype=float)  # noqa: E731
    return {
        "train": get(rows, "train_loss"),
        "val": get(rows, "val_loss"),
        "val_acc": get(rows, "val_accuracy"),
        "train_eval": get(oracle, "train_eval"),
        "end_steps": get(oracle, "train_end_steps"),
        "mean_steps": get(oracle, "train_mean_steps"),
    }


def _mk(values: np.ndarray) -> tuple[float, float]:
    if len(values) < 4 or np.ptp(values) == 0:
        return 0.0, 1.0
    r = stats.kendalltau(np.arange(len(values)), values)
    return float(r.statistic), float(r.pvalue)


def observed(result: dict[str, Any], recipe: Recipe, config: dict[str, Any]) -> set[str]:
    """Causes visible in this run by oracle measurements (a user would not have these)."""
    a = _arrays(result)
    tr, va, te = a["train"], a["val"], a["train_eval"]
    found: set[str] = set()
    if not np.all(np.isfinite(tr) & np.isfinite(va)) or np.nanmax(np.abs(tr)) > 1e6:
        found.add("numerical_instability")
        return found
    n = len(va)
    level = float(np.median(np.abs(np.concatenate([tr, va]))))
    noise = (
        float(stats.median_abs_deviation(np.diff(va, 2), scale="normal") / math.sqrt(6))
        if n > 4
        else 0
    )
    best = int(np.argmin(va))
    after = va[best:]
    tau, p = _mk(after)
    train_after = tr[best:]
    train_falls = len(train_after) >= 3 and train_after[-1] < train_after[0]
    if (
        len(after) >= 5
        and tau > 0.3
        and p < 0.05
        and train_falls
        and after[-1] - va[best] > max(3 * noise, 0.05 * level)
    ):
        found.add("overfitting")
    k = max(5, n // 3)
    if n >= 5:
        tt, tp = _mk(tr[-k:])
        vt, vp = _mk(va[-k:])
        # The trend over the window (Theil-Sen), not two noisy end points.
        drop_v = -stats.theilslopes(va[-k:]).slope * (k - 1) / level
        # ... and by a practically relevant amount: a share of the loss at the first epoch, as
        # the second generator's counterfactual asks (a fall from 0.02 to 0.01 on an easy set is
        # large relatively and irrelevant in practice).
        material = drop_v * level > MATERIAL * va[0]
        if tt < 0 and vt < 0 and tp < 0.05 and vp < 0.1 and drop_v > 0.03 and material:
            found.add("not_converged")
    acc = a["val_acc"]
    if np.isfinite(acc).all() and n >= 8:
        half = n // 2
        lt, lp = _mk(va[half:])
        at, _ = _mk(acc[half:])
        if lt > 0.3 and lp < 0.05 and at >= -0.05:
            found.add("accuracy_loss_divergence")
    gap = va - tr
    # Lag: the epoch mean of the training steps vs their value at the epoch's end.
    lag_part = a["mean_steps"] - a["end_steps"]
    if recipe.aggregation == "epoch_mean" and recipe.loss_reduction != "sum":
        share = np.mean(np.abs(lag_part[: max(2, n // 3)])) / (
            np.mean(np.abs(gap[: max(2, n // 3)])) + 1e-9
        )
        early_gap = float(np.mean(gap[: max(2, n // 3)]))
        if share > 0.5 and np.mean(lag_part[: max(2, n // 3)]) > 0.03 * level and early_gap < 0:
            found.add("measurement_lag")
    # Training-time-only effects: reported training loss (end of epoch) vs eval-mode training loss.
    train_only = float(np.mean((a["end_steps"] - te)[-max(2, n // 3) :]))
    if train_only > max(0.05 * level, 0.3 * abs(float(np.mean(gap[-max(2, n // 3) :])))):
        if recipe.batch_norm:
            found.add("batchnorm_mode")
        if recipe.augment_noise or recipe.augment_mask:
            found.add("augmentation_train_only")
        if recipe.dropout or recipe.label_smoothing or recipe.l2_in_loss or recipe.mixup:
            found.add("regularization_train_only")
    if config.get("val_size", 1000) < 100 and abs(float(np.mean(gap[-3:]))) < 2 * max(
        noise, float(np.mean(va[-3:])) / math.sqrt(config["val_size"])
    ):
        found.add("small_validation_noise")
    return found


def verify(
    cause: str, result: dict[str, Any], recipe: Recipe, config: dict[str, Any], seen: set[str]
) -> bool:
    """Is the planted phenomenon really visible in the history?"""
    a = _arrays(result)
    tr, va, te = a["train"], a["val"], a["train_eval"]
    if cause == "healthy":
        return not (seen & PROBLEMS)
    if cause in seen:
        return True
    finite = np.isfinite(tr) & np.isfinite(va)
    if not finite.all():
        return cause == "numerical_instability"
    level = float(np.median(np.abs(np.concatenate([tr, va]))))
    n = len(va)
    late = slice(-max(2, n // 3), None)
    if cause == "data_leakage":  # leaked validation keeps falling with training
        return (
            float(np.mean(va[late])) < float(np.mean(te[late])) + 0.1 * level or va[-1] < va[n // 2]
        )
    if cause == "easier_validation":  # still easier in eval mode
        return float(np.mean(va[late])) < float(np.mean(te[late]))
    if cause == "preprocessing_mismatch":
        return float(np.mean(va[late])) > 1.5 * float(np.mean(te[late])) + 0.05 * level
    if cause == "loss_computation_mismatch":
        ratio = np.mean(tr[late]) / np.mean(va[late])
        rough = np.std(np.diff(tr)) / (np.std(np.diff(va)) + 1e-9)
        return ratio > 3 or rough > 3
    if cause == "label_noise_train":  # high training floor that validation does not share
        return float(np.mean(tr[late])) > float(np.mean(va[late]))
    if cause == "underfitting":
        return tr[-1] > 0.6 * tr[0] or (1 - tr[-1] / tr[0]) < 0.5
    if cause == "lr_too_high":  # the training loss itself oscillates or climbs, far from zero
        d = np.diff(tr)
        reversals = np.mean(np.sign(d[1:]) != np.sign(d[:-1]))
        return (reversals > 0.4 or np.max(d) > 0.2 * level) and tr[-1] > 0.2 * tr[0]
    if cause == "lr_too_low":
        d = -np.diff(tr)
        third = max(1, len(d) // 3)
        return 1 - tr[-1] / tr[0] < 0.6 and np.mean(d[-third:]) > 0.4 * np.mean(d[:third])
    if cause == "premature_early_stopping":
        return len(va) < recipe.epochs and (va[0] - np.min(va)) / level > 0.1
    return False


PROBLEMS = {cause.id for cause in CAUSES if cause.kind == "problem"}


def config_for(split: Split, recipe: Recipe, extra: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.lr,
        "optimizer": recipe.optimizer,
        "train_size": len(split.x_train),
        "val_size": len(split.x_val),
    }
    if split.task == "classification":
        config["num_classes"] = split.num_classes
        config["loss"] = "cross_entropy"
    else:
        config["loss"] = "mse"
    return {**config, **extra}


def probe(split: Split, recipe: Recipe, result: dict[str, Any], seed: int) -> dict[str, Any] | None:
    """The worker's probe report on this run's final model and data (what re-evaluation sees)."""
    from bench.scenarios.probing import worker_report

    raw = augmented(split, recipe, seed)
    finite = [
        r
        for r in result["epochs"]
        if math.isfinite(r["train_loss"]) and math.isfinite(r["val_loss"])
    ]
    return worker_report(
        result["model"],
        raw if raw is not None else split.x_train,
        split.y_train,
        split.x_val,
        split.y_val,
        x_train_raw=split.x_train if raw is not None else None,
        task=split.task,
        batch_size=recipe.batch_size,
        label_smoothing=recipe.label_smoothing,
        reported=(finite[-1]["train_loss"], finite[-1]["val_loss"]) if finite else (None, None),
    )


def generate(job: tuple[str, int]) -> dict[str, Any] | None:
    import torch

    torch.set_num_threads(1)
    cause, variant = job
    for attempt in range(3):
        seed = 1000 * variant + 17 * attempt + sum(map(ord, cause))
        split, recipe, extra = PLANTS[cause](variant, seed)
        # Continued past its end (unlogged) for the counterfactual "train longer".
        result = train(split, recipe, seed, extra_epochs=extra_epochs(recipe))
        config = config_for(split, recipe, extra)
        seen = observed(result, recipe, config)
        if verify(cause, result, recipe, config, seen):
            planted = set() if cause == "healthy" else {cause}
            truth = sorted(seen | planted)
            run = {
                "name": f"{cause}-{variant}",
                "split": "heldout" if variant % 10 in HELD_OUT else "fit",
                "planted": sorted(planted),
                "truth": truth,
                "seed": seed,
                "recipe": {k: v for k, v in asdict(recipe).items() if k != "extra_config"},
                "history": {
                    "name": f"{cause}-{variant}",
                    "task": split.task,
                    "config": config,
                    "epochs": result["epochs"],
                    "steps": result["steps"],
                },
                "probe": probe(split, recipe, result, seed),
            }
            if judged(run):
                run["reruns"] = reruns(split, recipe, seed, result)
            return relabelled(run, PROBLEMS)
    return None


def replant(document: dict[str, Any]) -> tuple[Split, Recipe] | str:
    """A stored run's split and recipe, rebuilt by its plant from its name and seed (the runs
    are deterministic), or why they cannot be."""
    cause, variant = plant_of(document["name"])
    split, recipe, _ = PLANTS[cause](variant, document["seed"])
    kept = {k: v for k, v in asdict(recipe).items() if k != "extra_config"}
    if json.loads(json.dumps(kept)) != document["recipe"]:
        return "its plant no longer makes the stored recipe"
    return split, recipe


def main() -> None:
    """`generate.py [CAUSE ...]` regenerates only those causes' runs."""
    write_runs(
        jobs(PLANTS, VARIANTS, MORE_VARIANTS),
        generate,
        OUT,
        "the planted phenomenon never became visible",
        lambda run: f"{run['name']:<32} {run['split']:<8} truth={','.join(run['truth']) or '-'}",
    )


if __name__ == "__main__":
    main()
