"""Counterfactual labels: a problem cause is true of a run when fixing it helps, measured by
rerunning (issue 11); a benign cause when the eval-mode decomposition shows its share of the gap.

Everything is judged on the held-back test set the run never saw, so a label does not depend on
how the validation curve looks (which is what the engine reads).
"""

import math
from dataclasses import dataclass

import numpy as np

# Fixing a cause "helps" when the test loss falls by at least this share.
HELPS = 0.05
# A learning rate ten times smaller or larger helps when its best test loss is this much lower.
LR_HELPS = 0.10
# A training-time effect (dropout, augmentation, batch norm) explains the gap when the reported
# training loss exceeds the eval-mode training loss by this share of the gap, and of the level.
TRAIN_TIME_SHARE = 0.3
TRAIN_TIME_LEVEL = 0.05
# The epoch-mean training loss lags when its excess over the epoch's end explains this share of
# the early gap (validation below training).
LAG_SHARE = 0.5
# A validation estimate is off (leaked, easier, preprocessed differently) by this factor.
OPTIMISTIC = 0.85
PESSIMISTIC = 1.25
SMALL_VALIDATION = 100
EXPLODED = 1e6
# ... and by at least this share of the loss at the first epoch: on a small, easy set a fall from
# 0.02 to 0.0001 is large relatively and irrelevant in practice.
MATERIAL = 0.05
# Underfit: the wider model fits the training set this many times better.
UNFITTED = 1.5
# A diverged run is rerun at lr / 10, / 100, ... down to a millionth of it.
LOWER_DECADES = 6


@dataclass(frozen=True)
class Reruns:
    """The best test loss of the same recipe with the learning rate / 10 and x 10 and with a
    model four times as wide (and the wide model's final eval-mode training loss); None where
    the rerun diverged. A run that diverged has only `lr_lower`: the best test loss of the first
    rerun, a decade lower at a time with its schedule kept, that did not."""

    lr_down: float | None
    lr_up: float | None
    wider: float | None
    wider_train: float | None
    lr_lower: float | None = None


def _arr(rows: list[dict[str, float]], key: str) -> np.ndarray:
    return np.array([r.get(key, math.nan) for r in rows], dtype=float)


def helps(new: float | None, old: float, share: float, floor: float) -> bool:
    """Whether a fix's loss is lower by the share and by the material floor (both generators)."""
    return new is not None and new < old * (1 - share) and old - new > floor


def lower_rates(lr_growth: float) -> list[float]:
    """The factors a diverged run's rate is rerun at, a decade lower at a time (the first that
    trains is kept; both generators). None for a rate multiplied every epoch without end: it
    outgrows any lower start, so no rate fixes its schedule."""
    return [10.0**-decade for decade in range(1, LOWER_DECADES + 1)] if lr_growth == 1.0 else []


def lower_helps(losses: np.ndarray, lower: float | None) -> set[str]:
    """A diverged run's learning rate is too high when a lower one trains to a loss below any
    the run reached before it diverged (by the share and the floor every rerun is judged by),
    or to a finite one where it never had one (both generators)."""
    finite = losses[np.isfinite(losses) & (np.abs(losses) <= EXPLODED)]
    if lower is None:
        return set()
    if len(finite) == 0 or helps(lower, float(np.min(finite)), LR_HELPS, MATERIAL * finite[0]):
        return {"lr_too_high"}
    return set()


def _median_tail(values: np.ndarray, k: int = 3) -> float:
    return float(np.median(values[-k:]))


TRAIN_TIME_CAUSES = {  # benign causes, and the recipe's behaviour each needs
    "regularization_train_only": "regularized",
    "augmentation_train_only": "augmented",
    "batchnorm_mode": "batch_norm",
}


def train_time_causes(result: dict, behaviour: dict) -> set[str]:
    """The benign causes true of a run: training-time behaviour the recipe has (dropout or
    label smoothing, augmentation, batch norm) that explains the gap, i.e. the loss training
    measured at the end of each epoch exceeds the eval-mode training loss by a share of the gap
    and of the level over the last third."""
    oracle = result["oracle"]
    train = np.array([row["train_loss"] for row in result["epochs"]], dtype=float)
    val = _arr(oracle, "val_loss")
    late = slice(-max(2, len(val) // 3), None)
    level = float(np.median(np.abs(np.concatenate([train, val]))))
    train_time = float(np.mean((_arr(oracle, "end_steps") - _arr(oracle, "train_eval"))[late]))
    if train_time <= max(
        TRAIN_TIME_LEVEL * level, TRAIN_TIME_SHARE * abs(float(np.mean((val - train)[late])))
    ):
        return set()
    return {cause for cause, needs in TRAIN_TIME_CAUSES.items() if behaviour.get(needs)}


def label(result: dict, reruns: Reruns, config: dict, recipe_flags: dict) -> set[str]:
    """Every catalog cause that is true of this run, by counterfactual and decomposition."""
    oracle = result["oracle"]
    train = np.array([row["train_loss"] for row in result["epochs"]], dtype=float)
    test, val = _arr(oracle, "test_loss"), _arr(oracle, "val_loss")
    true: set[str] = set()
    if (
        not np.all(np.isfinite(train))
        or not np.all(np.isfinite(val))
        or np.max(np.abs(train)) > EXPLODED
    ):
        return {"numerical_instability"} | lower_helps(test, reruns.lr_lower)
    n = len(test)
    floor = MATERIAL * float(test[0])
    best_test = float(np.min(test))
    final_test = _median_tail(test)
    continued = np.array(result["continued"], dtype=float)
    if len(continued) >= 3 and np.all(np.isfinite(continued)):
        if result["stopped_early"]:
            if helps(float(np.min(continued)), best_test, HELPS, floor):
                true.add("premature_early_stopping")
        elif helps(_median_tail(continued), final_test, HELPS, floor):
            true.add("not_converged")
    best_val_epoch = int(np.argmin(val))
    if best_val_epoch < n - 2 and helps(float(test[best_val_epoch]), float(test[-1]), HELPS, floor):
        true.add("overfitting")
    # A learning rate is not too high and too low at once: when both reruns help, the run's
    # outcome is chance (a chaotic start), not its learning rate.
    down = helps(reruns.lr_down, best_test, LR_HELPS, floor)
    up = helps(reruns.lr_up, best_test, LR_HELPS, floor)
    if down and not up:
        true.add("lr_too_high")
    if up and not down:
        true.add("lr_too_low")
    train_eval = _arr(oracle, "train_eval")
    if (
        helps(reruns.wider, best_test, LR_HELPS, floor)
        and reruns.wider_train is not None
        and train_eval[-1] > UNFITTED * reruns.wider_train + floor  # the training set is not fit
    ):
        true.add("underfitting")
    late = slice(-max(2, n // 3), None)
    gap = val - train
    level = float(np.median(np.abs(np.concatenate([train, val]))))
    true |= train_time_causes(result, recipe_flags)
    early = slice(0, max(2, n // 3))
    lag = _arr(oracle, "mean_steps") - _arr(oracle, "end_steps")
    early_gap = val[early] - train[early]
    if (
        config.get("aggregation", "epoch_mean") == "epoch_mean"
        and np.mean(early_gap) < 0
        and np.mean(np.abs(lag[early])) > LAG_SHARE * np.mean(np.abs(early_gap))
        and np.mean(lag[early]) > 0.03 * level
    ):
        true.add("measurement_lag")
    val_final, test_final = float(np.mean(val[late])), float(np.mean(test[late]))
    if recipe_flags.get("leaked") and val_final < OPTIMISTIC * test_final:
        true.add("data_leakage")
    if recipe_flags.get("easier") and val_final < OPTIMISTIC * test_final:
        true.add("easier_validation")
    if recipe_flags.get("preprocessed") and val_final > PESSIMISTIC * test_final:
        true.add("preprocessing_mismatch")
    if recipe_flags.get("loss_mismatch"):
        true.add("loss_computation_mismatch")
    if recipe_flags.get("noisy_labels") and helps(
        recipe_flags.get("clean_best"), best_test, HELPS, floor
    ):
        true.add("label_noise_train")
    val_size = config.get("val_size", SMALL_VALIDATION)
    if val_size < SMALL_VALIDATION:
        spread = float(np.std(val[late] - test[late]))
        if abs(float(np.mean(gap[late]))) < 2 * max(spread, val_final / math.sqrt(val_size)):
            true.add("small_validation_noise")
    acc = _arr(result["epochs"], "val_accuracy")
    if np.isfinite(acc).sum() >= 8:
        half = n // 2
        rises = val[-1] > 1.1 * float(np.min(val[half:])) and val[-1] > val[half]
        if rises and np.nanmean(acc[-3:]) >= np.nanmax(acc[half:]) - 0.01:
            true.add("accuracy_loss_divergence")
    return true
