"""Failed optimization: the loss says training itself broke, whatever the gap between curves.

Three signatures, each impossible for a run that merely over- or underfits:
- the loss *exploded*: a positive loss climbs to a thousand times its lowest value, or a
  classifier's cross entropy never comes within a thousand times chance (ln C) all run
  (Keras reports 1e13 for a LeNet trained at learning rate 9 without ever printing a NaN);
- the classifier ends *at chance*: both losses at ln C or above (less 10%), chance accuracy
  (C from the config, or from curves that never left chance where the config says nothing):
  it predicts nothing (nothing about splits, regularization or early stopping matters then);
  it *collapsed* there when the loss first rose back above chance or accuracy fell from twice
  chance (overshooting steps do this; a learning rate too low never climbs above its start);
- the loss went *negative* although the named loss cannot (cross entropy, squared or absolute
  error): it is computed on targets or outputs it was not meant for;
- the loss is *impossible* for the accuracy reported beside it: a misclassified sample gives
  the true class at most half the probability, so a cross entropy is at least (1 - accuracy) *
  ln 2. A cross entropy of 0 with chance accuracy is not the loss of those predictions. A
  classifier whose config names no loss is read as a cross entropy, but may be trained on a
  squared error of its one-hot targets, which can be far lower: there only a loss below even
  that loss's bound is impossible (a misclassified sample's true output misses 1 by at least
  a half, a quarter squared, averaged over C outputs).
"""

import math

import numpy as np

from app.analysis.config_keys import (
    BINARY_LOSSES,
    LIKELIHOOD_LOSSES,
    NON_NEGATIVE_LOSSES,
    loss_declared,
    named_loss,
    num_classes,
)
from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.history import FloatArray

FEATURES = (
    "fl_exploded",
    "fl_at_chance",
    "fl_collapsed",
    "fl_from_above",
    "fl_negative",
    "fl_impossible",
)
EXPLODED_GROWTH = 1e3  # times the lowest value so far
EXPLODED_CHANCE = 1e3  # times chance, at the run's lowest point
CHANCE_BAND = 0.1  # losses no more than 10% below ln C
OVERSHOOT = 1.25  # a later epoch a quarter above chance
CHANCE_ACCURACY = 1.5  # validation accuracy at most 1.5 / C is chance
# Where the config does not say how many classes there are, a run that never left chance tells
# it: every loss within 5% of ln C (one C for all of them, on six losses or more) and every
# accuracy at most 1.25 / C.
INFERRED_BAND = 0.05
INFERRED_ACCURACY = 1.25
INFERRED_MIN_LOSSES = 6
INFERRED_MAX_CLASSES = 100_000
# A cross entropy below this share of its bound (1 - accuracy) * ln 2: the margin leaves room
# for a loss and an accuracy averaged over slightly different batches.
IMPOSSIBLE_SHARE = 0.5
MIN_ERROR = 0.1  # the bound means something once a tenth of the samples are misclassified
SQUARED_MISS = 0.25  # a misclassified sample's true output misses 1 by a half or more, squared


def loss_name(c: Curves) -> str | None:
    """The run's loss as its config names it, or cross entropy for a classifier naming none."""
    return named_loss(c.config, c.task)


def chance_outcomes(c: Curves) -> int | None:
    """Over how many equal outcomes a classifier that predicts nothing spreads each scored
    output: C classes for a cross entropy. A binary cross entropy scores every output on its
    own, so it is 2 however many classes (or labels) there are: a multi-label run declaring 20
    classes starts at ln 2 = 0.69, not at ln 20. (Outside classification a binary cross entropy
    scores reconstructions, where no such level exists.) Where the config does not say C, a
    run that never left chance shows it (`_never_left_chance`)."""
    name = loss_name(c)
    if c.task == "classification" and name in BINARY_LOSSES:
        return 2
    if name not in LIKELIHOOD_LOSSES:
        return None
    classes = num_classes(c.config, c.task)
    return classes if classes is not None else _never_left_chance(c)


def _never_left_chance(c: Curves) -> int | None:
    """The number of classes where the config does not say it, from a classifier that never
    left chance: every loss of the run within `INFERRED_BAND` of ln C for one C, and every
    accuracy logged at most `INFERRED_ACCURACY` / C. A loss alone does not tell it (a model that
    learned its task in the first epoch can hold a loss of 0.69 on four classes); chance
    accuracy beside it does. An LSTM on palindromes sent without `num_classes`, both losses at
    0.693 and its accuracy at a half all run, was not read at chance."""
    losses = np.concatenate([c.train, c.val])
    losses = losses[np.isfinite(losses)]
    logged = [a[np.isfinite(a)] for a in (c.train_acc, c.val_acc) if a is not None]
    accuracy = np.concatenate(logged) if logged else np.zeros(0)
    if len(losses) < INFERRED_MIN_LOSSES or len(accuracy) == 0 or np.any(losses <= 0):
        return None
    middle = float(np.median(losses))
    if middle > math.log(INFERRED_MAX_CLASSES):
        return None
    classes = round(math.exp(middle))
    if classes < 2:
        return None
    ln_c = math.log(classes)
    held = bool(np.all(np.abs(losses / ln_c - 1) <= INFERRED_BAND))
    return classes if held and float(np.max(accuracy)) <= INFERRED_ACCURACY / classes else None


def chance(c: Curves) -> float | None:
    """ln C: the cross entropy of a classifier that predicts nothing (uniform over C classes)."""
    outcomes = chance_outcomes(c)
    return None if outcomes is None else math.log(outcomes)


def _growth(values: FloatArray) -> float:
    """The largest ratio of a value to the lowest value before it (1 for a falling curve)."""
    v = values[np.isfinite(values)]
    if len(v) < 2 or np.any(v <= 0):
        return 1.0
    return float(np.max(v / np.minimum.accumulate(v)))


def _chance_state(c: Curves, ln_c: float) -> tuple[bool, bool, bool, str]:
    """Whether the classifier ends at chance, whether it collapsed there, whether it came down
    there from above, and in words."""
    train = c.train[np.isfinite(c.train)]
    if len(train) < 3:
        return False, False, False, ""
    end = float(np.median(train[-2:])) / ln_c
    val = c.val[np.isfinite(c.val)]
    val_end = float(np.median(val[-2:])) / ln_c if len(val) else end
    accuracy = c.val_acc if c.val_acc is not None else c.train_acc
    acc = accuracy[np.isfinite(accuracy)] if accuracy is not None else np.zeros(0)
    chance_acc = CHANCE_ACCURACY / math.exp(ln_c)
    at_chance = min(end, val_end) >= 1 - CHANCE_BAND and (len(acc) == 0 or acc[-1] <= chance_acc)
    # Rose above chance on the scale chance is measured on: the lower of the two losses at each
    # epoch, as for ending there. A training loss summed over each batch sits far above ln C
    # from its first step without ever having risen.
    lower = np.fmin(c.train, c.val)
    lower = lower[np.isfinite(lower)]
    rose = len(lower) >= 2 and float(np.max(lower[1:])) / ln_c >= OVERSHOOT
    lost = len(acc) >= 2 and acc[-1] <= chance_acc and float(np.max(acc)) >= 2 * chance_acc
    # Came down to chance from above: the training loss itself rose a quarter above chance, in
    # an epoch's mean or in a step after the first (the first is the initialization's), and
    # ends within the band around it: steps that overshot into confident mistakes, then settled
    # where a model that predicts nothing sits. Read on chance's scale only where it ends
    # there: a loss summed over each batch sits far above ln C throughout.
    settled = abs(end - 1) <= CHANCE_BAND
    steps = c.step_loss[1:][np.isfinite(c.step_loss[1:])]
    peak = max(float(np.max(train)), float(np.max(steps)) if len(steps) else -np.inf)
    from_above = at_chance and settled and peak / ln_c >= OVERSHOOT
    detail = f"training loss ends at {end:.0%} of chance (ln C)" + (
        f", validation accuracy at {acc[-1]:.3g} after peaking at {np.max(acc):.3g}"
        if len(acc)
        else ""
    )
    return at_chance, at_chance and (rose or lost), from_above, detail


def _per_error(c: Curves) -> tuple[float, str] | None:
    """The least loss a misclassified sample costs, and the loss it bounds: ln 2 for a named
    likelihood loss; for a classifier naming none, what the lowest loss it may have been
    trained on (a squared error averaged over its C outputs) costs, when C is known."""
    if loss_name(c) not in LIKELIHOOD_LOSSES:
        return None
    if loss_declared(c.config):
        return math.log(2), "a cross entropy"
    classes = num_classes(c.config, c.task)
    if classes is None:
        return None
    return SQUARED_MISS / classes, "even a squared error (the config names no loss)"


def _impossible(c: Curves) -> str:
    """Where a likelihood loss ends below what its own accuracy allows, in words ("" if not)."""
    bound = _per_error(c)
    if bound is None:
        return ""
    per_error, of = bound
    for side, loss, acc in (("training", c.train, c.train_acc), ("validation", c.val, c.val_acc)):
        if acc is None:
            continue
        both = np.isfinite(loss) & np.isfinite(acc)
        if int(both.sum()) < 2:
            continue
        end_loss = float(np.median(loss[both][-2:]))
        error = 1 - float(np.median(acc[both][-2:]))
        if MIN_ERROR <= error <= 1 and end_loss < IMPOSSIBLE_SHARE * error * per_error:
            return (
                f"the {side} loss ends at {end_loss:.3g} with accuracy {1 - error:.3g}: {of} "
                f"of those predictions is at least {error * per_error:.3g}"
            )
    return ""


def check(c: Curves) -> Finding:
    values = np.concatenate([c.train, c.val])
    finite = values[np.isfinite(values)]
    if len(finite) < 2:
        return skipped("failure", "needs two finite losses", dict.fromkeys(FEATURES, 0.0))
    ln_c = chance(c)
    growth = max(_growth(c.train), _growth(c.val))
    floor = float(np.min(finite)) / ln_c if ln_c and np.all(finite > 0) else 0.0
    exploded = growth >= EXPLODED_GROWTH or floor >= EXPLODED_CHANCE
    at_chance, collapsed, from_above, chance_detail = (
        _chance_state(c, ln_c) if ln_c else (False, False, False, "")
    )
    negative = loss_name(c) in NON_NEGATIVE_LOSSES and bool(np.any(finite < 0))
    impossible = _impossible(c)
    parts = []
    if exploded:
        parts.append(
            f"the loss exploded: it climbs to {growth:.3g} times its lowest value"
            + (f" and stays above {floor:.3g} times chance" if floor >= EXPLODED_CHANCE else "")
        )
    if at_chance:
        how = "collapsed to chance" if collapsed else "ends at chance"
        parts.append(f"the model {how}: {chance_detail}")
    if negative:
        parts.append(
            f"the loss ({loss_name(c)}) reaches {float(np.min(finite)):.4g}, which it cannot "
            "on valid targets"
        )
    if impossible:
        parts.append(impossible)
    features = {
        "fl_impossible": float(bool(impossible)),
        "fl_exploded": float(exploded),
        "fl_at_chance": float(at_chance),
        "fl_collapsed": float(collapsed),
        "fl_from_above": float(from_above),
        "fl_negative": float(negative),
    }
    if parts:
        return Finding("failure", "flagged", "; ".join(parts), statistic=growth, features=features)
    return Finding(
        "failure",
        "passed",
        "the loss stays within a sane range of its own values and of chance",
        statistic=growth,
        features=features,
    )
