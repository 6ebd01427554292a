"""How the second generator plants each cause: a function of the variant index and seed that
returns the data, the recipe, extra config a user would log, and flags for the labeller."""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from bench.scenarios.second.data import FAMILIES, Data, load, small_tabular
from bench.scenarios.second.loop import Recipe, train

Planted = tuple[Data, Recipe, dict[str, Any], dict[str, Any]]
Plant = Callable[[int, int], Planted]

ARCH = {
    "signals": ("gru", "cnn1d", "transformer", "lstm"),
    "sequences": ("gru", "lstm", "transformer", "gru"),
    "shapes": ("resnet", "resnet", "resnet", "resnet"),
    "small_tabular": ("mlp", "mlp", "mlp", "mlp"),
}
OPTIMIZERS = ("adamw", "sgd", "rmsprop", "adamw", "adamw", "sgd")
GOOD_LR = {"adamw": 3e-3, "sgd": 3e-2, "rmsprop": 1e-3}
SCHEDULES = ("onecycle", "warmup", "step", "plateau", "cosine", "none")


def _base(i: int, seed: int, n_val: int | None = None, **changes: Any) -> tuple[Data, Recipe]:
    family = FAMILIES[i % len(FAMILIES)]
    data = load(family, seed, i, n_val)
    optimizer = OPTIMIZERS[i % len(OPTIMIZERS)]
    small = family == "small_tabular"
    recipe = Recipe(
        arch=ARCH[family][(i // 4) % 4],
        width=16 if family == "shapes" else 32,
        optimizer=optimizer,
        lr=GOOD_LR[optimizer],
        schedule=SCHEDULES[i % len(SCHEDULES)],
        epochs=120 if small else 25,
        batch_size=16 if small else 64,
        batch_norm=family == "shapes" and i % 8 < 4,
        clip=1.0 if i % 3 == 0 else None,
        val_every=2 if i % 5 == 3 else 1,
        log_steps=i % 2 == 0,
    )
    return data, replace(recipe, **changes)


def healthy(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, dropout=[0.0, 0.1, 0.2][i % 3])
    return data, recipe, {}, {}


def regularization(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, dropout=0.5)
    if data.family != "shapes":
        recipe = replace(recipe, width=64)
    if i % 2 and data.task == "classification":
        recipe = replace(recipe, dropout=0.1, label_smoothing=0.2)
    return data, recipe, {}, {}


def augmentation(i: int, seed: int) -> Planted:
    kind, strength = [("noise", 1.0), ("shift", 1.5), ("mask", 0.35)][i % 3]
    data, recipe = _base(i, seed, augment=kind, augment_strength=strength)
    return data, recipe, {}, {}


def lag(i: int, seed: int) -> Planted:
    data, recipe = _base(
        i, seed, optimizer="sgd", lr=0.02, schedule="none", epochs=[6, 8, 10][i % 3], batch_size=8
    )
    return data, recipe, {}, {}


def batchnorm(i: int, seed: int) -> Planted:
    family = ("shapes", "small_tabular", "signals")[i % 3]
    index = FAMILIES.index(family) + 4 * (i // 3)
    data, recipe = _base(index, seed, batch_norm=True, shuffle=False, batch_size=16)
    if family == "signals":
        recipe = replace(recipe, arch="cnn1d")
    return data, recipe, {}, {}


def small_val(i: int, seed: int) -> Planted:
    family = ("signals", "sequences", "shapes", "small_tabular")[i % 4]
    n_val = [30, 40, 25][i % 3]
    data, recipe = _base(FAMILIES.index(family) + 4 * (i // 4), seed, n_val=n_val, dropout=0.1)
    if family == "small_tabular":
        data = replace(data, x_val=data.x_val[:n_val], y_val=data.y_val[:n_val])
    return data, recipe, {}, {}


def divergence(i: int, seed: int) -> Planted:
    family = ("signals", "shapes", "small_tabular")[i % 3]
    data, recipe = _base(FAMILIES.index(family) + 4 * (i // 3), seed, weight_decay=0.0)
    recipe = replace(recipe, schedule="none", width=recipe.width if family == "shapes" else 96)
    keep = 80 if family == "small_tabular" else 250
    recipe = replace(recipe, epochs=200 if family == "small_tabular" else 60)
    return data.with_train(data.x_train[:keep], data.y_train[:keep]), recipe, {}, {}


def leakage(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    k = int(len(data.x_val) * [0.8, 1.0, 0.6][i % 3])
    pick = rng.choice(len(data.x_train), k, replace=False)
    x_val = data.x_val.copy()
    y_val = data.y_val.copy()
    x_val[:k] = data.x_train[pick] + rng.normal(0, 0.01, data.x_train[pick].shape)
    y_val[:k] = data.y_train[pick]
    return replace(data, x_val=x_val.astype(np.float32), y_val=y_val), recipe, {}, {"leaked": True}


def easier(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed)
    x = np.concatenate([data.x_train, data.x_val])
    y = np.concatenate([data.y_train, data.y_val])
    flat = x.reshape(len(x), -1)
    if data.task == "classification":
        reference = LogisticRegression(max_iter=500).fit(flat, y)
        margin = reference.predict_proba(flat)[np.arange(len(y)), y]
    else:
        margin = -np.abs(Ridge().fit(flat, y).predict(flat) - y)
    order = np.argsort(-margin)
    n_val = len(data.x_val)
    easy = order[: n_val * 2][::2]
    rest = np.setdiff1d(np.arange(len(y)), easy)
    moved = replace(data, x_train=x[rest], y_train=y[rest], x_val=x[easy], y_val=y[easy])
    return moved, recipe, {}, {"easier": True}


def preprocessing(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed)
    scale, shift = [(2.5, 0.0), (1.0, 0.8), (0.4, 0.6)][i % 3]
    moved = replace(data, x_val=(data.x_val * scale + shift).astype(np.float32))
    return moved, recipe, {}, {"preprocessed": True}


def loss_mismatch(i: int, seed: int) -> Planted:
    if i % 2:
        data, recipe = _base(i, seed, aggregation="last_batch", batch_size=16)
        return data, recipe, {}, {"loss_mismatch": True}
    data, recipe = _base(i, seed, reduction="sum")
    return data, recipe.scaled_lr(1 / recipe.batch_size), {}, {"loss_mismatch": True}


def label_noise(i: int, seed: int) -> Planted:
    family = ("signals", "shapes", "sequences", "small_tabular")[i % 4]
    data, recipe = _base(FAMILIES.index(family) + 4 * (i // 4), seed)
    rng = np.random.default_rng(seed)
    y = data.y_train.copy()
    flip = rng.random(len(y)) < [0.4, 0.5, 0.35][i % 3]
    if data.task == "classification":
        y[flip] = rng.integers(0, data.num_classes, int(flip.sum()))
    else:
        y[flip] = rng.normal(0, 2.0, int(flip.sum())).astype(np.float32)
    clean = train(data, replace(recipe, patience=None), seed)
    clean_best = min(o["test_loss"] for o in clean["oracle"])
    return (
        data.with_train(data.x_train, y),
        recipe,
        {},
        {"noisy_labels": True, "clean_best": clean_best},
    )


def overfitting(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, weight_decay=0.0, schedule=["none", "step"][i % 2])
    if data.family != "shapes":
        recipe = replace(recipe, width=96)
    small = data.family == "small_tabular"
    if small:  # wine and iris are too easy to overfit visibly; diabetes is not
        data = small_tabular(seed, 2)
    keep = 60 if small else 200
    recipe = replace(recipe, epochs=300 if small else [40, 60][i % 2])
    return data.with_train(data.x_train[:keep], data.y_train[:keep]), recipe, {}, {}


def underfitting(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, width=[2, 1, 2][i % 3], dropout=0.0)
    return data, recipe, {}, {}


def lr_high(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, schedule=["none", "step", "none"][i % 3])
    factor = {"adamw": 25.0, "sgd": 30.0, "rmsprop": 50.0}[recipe.optimizer]
    return data, recipe.scaled_lr(factor), {}, {}


def lr_low(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, schedule="none", clip=None)
    return data, recipe.scaled_lr(0.02), {}, {}


def not_converged(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, schedule="none", optimizer="sgd", lr=0.01, clip=None)
    return (
        data,
        replace(recipe, epochs=[4, 6, 5][i % 3] * (6 if data.family == "small_tabular" else 1)),
        {},
        {},
    )


def early_stop(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, n_val=60, patience=[1, 2][i % 2], epochs=40, schedule="none")
    if data.family == "small_tabular":
        recipe = replace(recipe, epochs=200, optimizer="sgd", lr=3e-3)
    return data, recipe, {}, {}


def instability(i: int, seed: int) -> Planted:
    data, recipe = _base(i, seed, optimizer="sgd", schedule="none", clip=None, lr=0.01)
    if i % 2:
        return data, replace(recipe, lr_growth=3.0, epochs=20), {"lr_schedule": "exponential"}, {}
    return data, recipe.scaled_lr(5000.0), {}, {}


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
