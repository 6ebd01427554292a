"""The run's `config` keys the analysis understands, as numbers (api.md §1)."""

import math
from collections.abc import Mapping

from app.analysis.finding import Finding


def _number(config: Mapping[str, object], key: str) -> float | None:
    value = config.get(key)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _flag(config: Mapping[str, object], key: str) -> float:
    value = config.get(key)
    if isinstance(value, str):
        return 0.0 if value.strip().lower() in ("", "none", "false", "no", "off", "0") else 1.0
    if isinstance(value, int | float):
        return 1.0 if value else 0.0
    return 1.0 if value else 0.0


# Losses that cannot be negative; the first group also starts near ln C for a classifier.
LIKELIHOOD_LOSSES = frozenset(
    {
        "cross_entropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "crossentropy",
        "nll",
        "bce",
        "binary_crossentropy",
        "log_loss",
    }
)
NON_NEGATIVE_LOSSES = LIKELIHOOD_LOSSES | frozenset(
    {"mse", "mae", "huber", "smooth_l1", "mean_squared_error", "mean_absolute_error"}
)


def named_loss(config: Mapping[str, object], task: str) -> str | None:
    """The run's loss as `loss` names it, or cross entropy for a classifier naming none."""
    name = config.get("loss")
    if isinstance(name, str) and name.strip():
        return name.strip().lower()
    return "cross_entropy" if task == "classification" else None


def loss_declared(config: Mapping[str, object]) -> bool:
    """Whether the config names the run's loss (a classifier naming none is read as a cross
    entropy, which it may not be)."""
    return named_loss(config, task="other") is not None


# Losses of a two-class problem: a run naming one has two classes whether or not it says so.
BINARY_LOSSES = frozenset({"bce", "binary_crossentropy"})


def num_classes(config: Mapping[str, object], task: str) -> int | None:
    """A classifier's number of classes: `num_classes` (two or more), or two for a binary
    loss; None when neither says."""
    if task != "classification":
        return None
    classes = declared_count(config, "num_classes")
    if classes is not None and classes >= 2:
        return classes
    return 2 if named_loss(config, task) in BINARY_LOSSES else None


def loss_may_be_negative(config: Mapping[str, object], task: str) -> bool:
    """Whether the run's loss can legitimately go below zero (a Gaussian negative log-
    likelihood, an ELBO, a negative similarity): any loss not known to be non-negative."""
    return named_loss(config, task) not in NON_NEGATIVE_LOSSES


# The learning rate each optimizer's library default (or common practice, for SGD) uses: a
# configured rate far from it, in decades, is prior evidence about a learning-rate cause.
TYPICAL_LR = {
    "sgd": 1e-2,
    "adam": 1e-3,
    "adamw": 1e-3,
    "nadam": 1e-3,
    "adamax": 2e-3,
    "rmsprop": 1e-3,
    "adagrad": 1e-2,
    "adadelta": 1.0,
    "lamb": 1e-3,
    "lion": 1e-4,
}
LR_DECADES = 3.0  # the feature saturates three decades from the typical rate
# SGD's step grows with the batch past this many samples (the linear scaling rule, Goyal et al.
# 2017: ResNets train at 0.1 per 256 samples, 0.4 at 1024), so its usual rate does too: a large
# batch at a proportionally larger rate is usual, not far above it. Adaptive optimizers
# normalize their steps and keep their defaults.
LINEAR_SCALING_BATCH = 256


# Optimizers whose step moves each weight by about the learning rate whatever the gradient's
# scale (they divide by its running magnitude): over a run a weight moves at most lr x steps.
ADAPTIVE_OPTIMIZERS = frozenset({"adam", "adamw", "nadam", "adamax", "rmsprop"})


def optimizer_name(config: Mapping[str, object]) -> str:
    """The configured optimizer's name, lower case; "" when the config names none."""
    optimizer = config.get("optimizer")
    return optimizer.strip().lower() if isinstance(optimizer, str) else ""


# `lr_schedule` values (normalized by `_schedule`) that hold the rate where it starts (Hugging
# Face's `constant` and `constant_with_warmup`, whose warm-up only climbs to it; our clients'
# `none`).
CONSTANT_SCHEDULES = frozenset({"none", "constant", "fixed", "constantwithwarmup"})


def _schedule(config: Mapping[str, object]) -> str | None:
    """The config's `lr_schedule`, lower case without separators (`one_cycle`, `one-cycle` and
    `OneCycle` are one name); None when absent or not a name."""
    schedule = config.get("lr_schedule")
    if not isinstance(schedule, str):
        return None
    return "".join(ch for ch in schedule.lower() if ch not in " _-")


def declares_constant_rate(config: Mapping[str, object]) -> bool:
    """Whether the config's `lr_schedule` says the rate was never lowered."""
    return _schedule(config) in CONSTANT_SCHEDULES


# `lr_schedule` values whose first steps take the configured rate: no warm-up climbs to it
# (PyTorch's CosineAnnealingLR, CosineAnnealingWarmRestarts, StepLR, MultiStepLR, ExponentialLR
# and ReduceLROnPlateau, Keras' CosineDecay, CosineDecayRestarts, ExponentialDecay and
# PiecewiseConstantDecay, by their class or usual names; our clients' `none`). Warm restarts
# return to the configured rate, and start there. One-cycle, cyclic, Hugging Face's "linear" and
# anything naming a warm-up start below it, and so does a config with warm-up steps or epochs.
FULL_RATE_SCHEDULES = frozenset(
    {
        *("none", "constant", "fixed", "step", "steplr", "multistep", "multisteplr"),
        *("cosine", "cosineannealing", "cosineannealinglr", "cosinedecay"),
        *("cosinewarmrestarts", "cosineannealingwarmrestarts", "cosinerestarts"),
        *("cosinewithrestarts", "cosinedecayrestarts", "sgdr"),
        *("exponential", "exponentiallr", "exponentialdecay", "piecewiseconstantdecay"),
        *("plateau", "reducelronplateau", "reduceonplateau"),
    }
)
WARM_UP_KEYS = ("warmup_steps", "warmup_ratio", "warmup_epochs")


def declares_full_first_steps(config: Mapping[str, object]) -> bool:
    """Whether the config says the first steps took the configured rate: a schedule without a
    warm-up (`lr_schedule`) and no warm-up steps, ratio or epochs."""
    if _schedule(config) not in FULL_RATE_SCHEDULES:
        return False
    return not any((_number(config, key) or 0.0) > 0 for key in WARM_UP_KEYS)


# `lr_schedule` values naming a one-cycle schedule, whose rate climbs from a small fraction of
# the configured one over the first part of the run; that part is fastai's `pct_start` default
# (PyTorch's OneCycleLR climbs for 0.3): the shorter of the two, so that a stall is read as
# ended within the climb only where it would be under either.
ONE_CYCLE_SCHEDULES = frozenset({"onecycle", "1cycle", "onecyclelr"})
ONE_CYCLE_WARM_UP = 0.25


def warm_up_share(config: Mapping[str, object], batches_per_epoch: float) -> float | None:
    """The share of the planned run over which the rate climbs to the configured one: a
    `warmup_ratio`, `warmup_epochs` or `warmup_steps` of the planned epochs (`epochs`; steps
    need `batches_per_epoch`), else a one-cycle schedule's climb; None when the config does not
    say (a schedule named `warmup` does not say how long)."""
    planned = planned_epochs(config)
    ratio = _number(config, "warmup_ratio")
    epochs = _number(config, "warmup_epochs")
    steps = _number(config, "warmup_steps")
    if ratio is not None and ratio > 0:
        return ratio
    if planned and epochs is not None and epochs > 0:
        return epochs / planned
    if planned and batches_per_epoch > 0 and steps is not None and steps > 0:
        return steps / (planned * batches_per_epoch)
    return ONE_CYCLE_WARM_UP if _schedule(config) in ONE_CYCLE_SCHEDULES else None


# A weight decay from which a large model's weights are held as a small model's would be: the
# first generator's underfit plants by penalty used 0.5; AdamW's usual one is 0.01.
HEAVY_WEIGHT_DECAY = 0.1


def restrains_capacity(config: Mapping[str, object]) -> bool:
    """Whether the config declares what keeps a model's parameters from fitting as many samples:
    frozen layers (counted, not trained) or a weight decay of `HEAVY_WEIGHT_DECAY` or more."""
    decay = _number(config, "weight_decay") or 0.0
    return bool(_flag(config, "frozen_layers")) or decay >= HEAVY_WEIGHT_DECAY


def configured_lr(config: Mapping[str, object]) -> float | None:
    """The configured learning rate (`learning_rate`, or `lr`); None when unknown or not
    positive."""
    lr = _number(config, "learning_rate")
    if lr is None:
        lr = _number(config, "lr")
    return lr if lr is not None and lr > 0 else None


def step_budget(config: Mapping[str, object], steps: float) -> float | None:
    """How far an adaptive optimizer could move each weight in `steps` steps at the configured
    rate (lr x steps); None for other optimizers, or an unknown rate or number of steps."""
    lr = configured_lr(config)
    if optimizer_name(config) not in ADAPTIVE_OPTIMIZERS or lr is None or steps <= 0:
        return None
    return lr * steps


def usual_lr(config: Mapping[str, object]) -> float | None:
    """The named optimizer's usual learning rate, at the configured batch for SGD; None when
    the optimizer is unknown."""
    name = optimizer_name(config)
    typical = TYPICAL_LR.get(name)
    batch = _number(config, "batch_size")
    if typical is not None and name == "sgd" and batch is not None:
        typical *= max(1.0, batch / LINEAR_SCALING_BATCH)
    return typical


def lr_decades(config: Mapping[str, object]) -> float | None:
    """log10(configured / usual learning rate); None when either is unknown."""
    lr, usual = configured_lr(config), usual_lr(config)
    if lr is None or usual is None:
        return None
    return math.log10(lr / usual)


def _lr_feature(config: Mapping[str, object]) -> float:
    """The learning rate's distance from the typical one, scaled to [-1, 1]; 0 when unknown."""
    decades = lr_decades(config)
    return 0.0 if decades is None else max(-1.0, min(1.0, decades / LR_DECADES))


def epoch_mean_training_loss(config: Mapping[str, object]) -> bool:
    """Whether the reported training loss is a mean over the epoch's batches (config
    `train_loss_aggregation`; the default of every library that logs one)."""
    aggregation = str(config.get("train_loss_aggregation", "epoch_mean")).lower()
    return aggregation in ("epoch_mean", "mean", "")


def declares_regularization(config: Mapping[str, object]) -> bool:
    """Whether the config declares a penalty active only while training (dropout, label
    smoothing, an L2 term in the reported loss, mixup)."""
    return bool(
        (_number(config, "dropout") or 0.0) > 0
        or (_number(config, "label_smoothing") or 0.0) > 0
        or _flag(config, "l2_in_loss") > 0
        or _flag(config, "mixup") > 0
    )


def label_smoothing(config: Mapping[str, object]) -> float:
    """The label smoothing the config declares: a share of each target spread over every
    outcome (0 when none is declared, or when the value is no share)."""
    value = _number(config, "label_smoothing") or 0.0
    return value if 0 < value < 1 else 0.0


def declares_augmentation(config: Mapping[str, object]) -> bool:
    """Whether the config declares training inputs altered while training (augmentation,
    mixup)."""
    return _flag(config, "augmentation") > 0 or _flag(config, "mixup") > 0


def declared_count(config: Mapping[str, object], key: str) -> int | None:
    """A count of one or more the config states (`epochs`, `num_classes`, `train_size`, the
    `parameters` the Python client records from the model); None when it does not, or states
    a flag."""
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if math.isfinite(value) and value >= 1 else None


def planned_epochs(config: Mapping[str, object]) -> int | None:
    """The epochs the script was set to train (config `epochs`); None when it does not say."""
    return declared_count(config, "epochs")


def early_stopping_patience(config: Mapping[str, object]) -> int | None:
    """The evaluations without improvement after which early stopping ends the run (config
    `early_stopping_patience`); None when the config does not say, or says a flag."""
    return declared_count(config, "early_stopping_patience")


def declares_batch_norm(config: Mapping[str, object]) -> bool:
    """Whether the config declares batch-norm layers, whose batch statistics differ between
    training and evaluation."""
    return _flag(config, "batch_norm") > 0


def config_finding(config: Mapping[str, object]) -> Finding:
    dropout = _number(config, "dropout") or 0.0
    smoothing = _number(config, "label_smoothing") or 0.0
    batch = _number(config, "batch_size")
    val_size = _number(config, "val_size")
    patience = early_stopping_patience(config)
    aggregation = str(config.get("train_loss_aggregation", "epoch_mean")).lower()
    reduction = str(config.get("loss_reduction", "mean")).lower()
    batch_norm = float(declares_batch_norm(config))
    features = {
        "cfg_dropout": min(dropout, 1.0),
        "cfg_label_smoothing": min(smoothing * 5, 1.0),
        "cfg_l2_in_loss": _flag(config, "l2_in_loss"),
        "cfg_mixup": _flag(config, "mixup"),
        "cfg_augmentation": _flag(config, "augmentation"),
        "cfg_batch_norm": batch_norm,
        "cfg_bn_small_batch": batch_norm * (1.0 if batch is not None and batch <= 16 else 0.0),
        "cfg_regularized": float(declares_regularization(config)),
        "cfg_epoch_mean": float(epoch_mean_training_loss(config)),
        "cfg_last_batch": float(aggregation in ("last_batch", "end_of_epoch")),
        "cfg_sum_reduction": float(reduction == "sum"),
        "cfg_frozen": _flag(config, "frozen_layers"),
        "cfg_small_patience": float(patience is not None and patience <= 3),
        "cfg_val_size_inv": 1.0 / math.sqrt(val_size) if val_size and val_size > 0 else 0.0,
        "cfg_lr_log": _lr_feature(config),
    }
    known = sorted(
        k
        for k in (
            "dropout",
            "label_smoothing",
            "l2_in_loss",
            "mixup",
            "augmentation",
            "batch_norm",
            "batch_size",
            "val_size",
            "early_stopping_patience",
            "epochs",
            "train_loss_aggregation",
            "loss_reduction",
            "frozen_layers",
            "learning_rate",
            "optimizer",
        )
        if k in config
    )
    detail = f"config keys used: {', '.join(known)}" if known else "no known config keys"
    return Finding("config", "passed", detail, features=features)


# Keys declaring training-time behaviour: what makes the reported training loss differ from the
# loss of the same weights in eval mode.
BEHAVIOUR_KEYS = frozenset(
    {
        "dropout",
        "label_smoothing",
        "weight_decay",
        "l2_in_loss",
        "mixup",
        "augmentation",
        "batch_norm",
    }
)
# Keys that say how the model was trained. A config naming none of them (no config at all, as a
# Keras CSV or a TensorBoard folder arrives, or only facts about the data) leaves open whether
# dropout, label smoothing or augmentation was at work.
RECIPE_KEYS = BEHAVIOUR_KEYS | {"optimizer", "learning_rate", "lr_schedule", "frozen_layers"}


def recipe_unknown(config: Mapping[str, object]) -> bool:
    return not RECIPE_KEYS & set(config)


def behaviour_undeclared(config: Mapping[str, object]) -> bool:
    """Whether the config names none of the training-time behaviour keys (every key is
    optional in api.md §1: a missing `dropout` is not a declared 0)."""
    return not BEHAVIOUR_KEYS & set(config)


# What an unknown recipe may have declared, with how likely each is taken to be: none, a
# penalty active only while training (dropout at a common rate) or augmentation, as config
# keys. Half the weight on "something", split evenly: nothing is known of the run, and both
# are among the commonest habits of the scripts people train with.
UNKNOWN_RECIPE_VARIANTS: tuple[tuple[float, Mapping[str, object]], ...] = (
    (0.5, {}),
    (0.25, {"dropout": 0.5}),
    (0.25, {"augmentation": True}),
)
# A config that names the optimizer or the rate but no behaviour key describes its recipe, so a
# run without dropout or augmentation is likelier, but a script that logs its optimizer and not
# its dropout is common: three in ten are weighed as having one. Read as certainly without
# (the former rule), such runs with undeclared dropout or batch norm were told their labels were
# noisy at 0.51-0.85 (5 of the 26 runs of a throwaway generator sent with such configs).
PARTIAL_RECIPE_VARIANTS: tuple[tuple[float, Mapping[str, object]], ...] = (
    (0.7, {}),
    (0.15, {"dropout": 0.5}),
    (0.15, {"augmentation": True}),
)


def recipe_variants(
    config: Mapping[str, object],
) -> tuple[tuple[float, Mapping[str, object]], ...]:
    """The configs the run may have been sent with, weighted: itself when it declares its
    training-time behaviour, else itself with each of the declarations it may have left out
    (`PARTIAL_RECIPE_VARIANTS` when it names its optimizer or rate, else
    `UNKNOWN_RECIPE_VARIANTS`)."""
    if not behaviour_undeclared(config):
        return ((1.0, config),)
    variants = UNKNOWN_RECIPE_VARIANTS if recipe_unknown(config) else PARTIAL_RECIPE_VARIANTS
    return tuple((weight, {**config, **declared}) for weight, declared in variants)
