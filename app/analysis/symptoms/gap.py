"""The gap between the curves: its sign and size at the end, at the start and at the first
epoch, and whether it widens or shrinks.
"""

import math

import numpy as np
from scipy import stats

from app.analysis.checks import gap as gaps
from app.analysis.checks import lag
from app.analysis.curves import Curves
from app.analysis.stats import mann_kendall
from app.analysis.symptoms.symptom import Symptom
from app.analysis.wording import count, pvalue

MIN_GAP_REL = 0.05  # a gap worth 5% of the loss level ...
MIN_GAP_Z = gaps.SIGNIFICANT_Z  # ... and beyond two standard errors of validation loss
MIN_EARLY_EPOCHS = 6  # the first and last windows overlap in shorter runs
MIN_TREND_CHANGE = 0.05  # a gap that widens or shrinks by 5% of the level or more, ...
GAP_GROWTH = 0.1  # ... or, already material at the start, by a tenth of itself
TREND_P = 0.05
# A gap matters for a problem cause only when it is a share of what the model learned: a
# validation loss of 0.002 against 0.00001 is a hundredfold the training loss and 0.2% of a run
# that started at 1.0, where every prediction on both splits is already right.
MATERIAL_GAP = 0.01
# Inputs preprocessed differently cost validation accuracy: a classifier whose validation
# accuracy over the last epochs is within a point of its training accuracy (or above it) sees
# validation inputs as it saw training ones, whatever its losses do.
ACCURACY_AGREES = 0.01
# Dropout scores training's own samples worse in train mode than the model scores them in eval
# mode, and so lowers the training accuracy a log reports: by at most 7 points in the 52 runs of
# both suites whose only training-time behaviour was dropout (0.1 to 0.6). Validation accuracy
# over training's by twice that, and more, is something else: wrong training labels (a median of
# 20 points in the noisy-label runs of both suites), augmented inputs, batch norm, an easier
# split. Measured against validation's accuracy an epoch earlier, so that an epoch mean still
# climbing (the half-epoch lag) does not count.
ACCURACY_DEFICIT = 0.15
# Wrong training labels the model has not memorized lower the training accuracy a log reports
# through the same samples whose loss they raise: in the 36 runs of both suites where noisy
# labels put validation below training with both accuracies logged, training accuracy sat 7 to
# 28 points below validation's (measured before each epoch). Training accuracy within half the
# least of those of validation's has no wrong labels to speak of, whatever its losses do (an
# augmented run of a throwaway batch, accuracies 0.57 and 0.58 beside a loss 16% apart, read
# "noisy labels, 75%").
ACCURACY_KEPT_UP = 0.035
# A validation set so small that its sampling error spans a fifth of its loss (two standard
# errors, about 100 samples) cannot resolve a gap that size: one within it is noise.
UNRESOLVED = 0.2
# A validation set's count of errors at least this likely (two-sided, binomial at training's
# error rate) is what a set of its size holds by chance.
CHANCE_COUNT_P = 0.05
# Validation below even the next epoch's training loss at three epochs in four, by a twentieth
# of itself or more: a half-epoch lag cannot put it there (checks/lag.py), so the lag explains
# only part of the gap. No pure-lag run of the suite comes near it.
BEYOND_LAG_SHARE = 0.75
BEYOND_LAG_REL = -0.05


def gap_symptoms(c: Curves) -> list[Symptom]:
    late = gaps.measure(c, "late")
    if late is None:
        return []
    windows = [("", late)]
    early = gaps.measure(c, "early")
    if early is not None and int(np.sum(c.both)) >= MIN_EARLY_EPOCHS:
        windows.append(("_early", early))
    out = []
    for suffix, m in windows:
        clear = abs(m.z) >= MIN_GAP_Z and abs(m.relative) >= MIN_GAP_REL
        where = "first" if suffix else "last"
        detail = (
            f"over the {where} {count(m.epochs, 'epoch')} validation loss is {abs(m.gap):.3g} "
            f"{'below' if m.gap < 0 else 'above'} training loss ({abs(m.relative):.0%} of the "
            f"loss level, {abs(m.z):.1f} standard errors)"
        )
        for side, sign in (("below", -1), ("above", 1)):
            out.append(
                Symptom(
                    f"val_{side}_train{suffix}",
                    clear and np.sign(m.gap) == sign,
                    round(m.relative, 4),
                    "of the loss level",
                    detail,
                )
            )
    tr0, va0 = c.train[c.both][0], c.val[c.both][0]
    start = max(abs(float(tr0)), abs(float(va0)))
    share = abs(late.gap) / start if start > 0 else float("inf")
    out.append(
        Symptom(
            "gap_material",
            share >= MATERIAL_GAP,
            round(min(share, 1e6), 4),
            "of the first epoch's loss",
            f"the final gap of {abs(late.gap):.3g} is {min(share, 1e6):.1%} of the loss at the "
            "first epoch",
        )
    )
    sigma = gaps.val_sigma(c)
    first_se = max(sigma if sigma is not None else gaps.SHORT_RUN_SE * late.level, late.se)
    first = (va0 - tr0) / late.level
    out.append(
        Symptom(
            "val_below_train_first",
            first <= -MIN_GAP_REL and (tr0 - va0) >= MIN_GAP_Z * first_se,
            round(float(first), 4),
            "of the loss level",
            f"at the first epoch validation loss is {c.shown(va0):.4g} and training loss "
            f"{c.shown(tr0):.4g}",
        )
    )
    out.append(
        Symptom(
            "gap_within_noise",
            abs(late.z) < MIN_GAP_Z,
            round(late.z, 2),
            "standard errors",
            f"the final gap is {abs(late.z):.1f} standard errors of validation loss",
        )
    )
    out.extend(_beyond_lag(c))
    out.extend(_within_sampling_error(c, late.gap))
    agree = _accuracies_agree(c)
    if agree is not None:
        out.append(agree)
    out.extend(_accuracy_deficit(c))
    return out


def _beyond_lag(c: Curves) -> list[Symptom]:
    """Validation below even the next epoch's training loss, over the run and over its last
    epochs (the window the final gap is measured on): where the curves have flattened, the
    half-epoch lag is half of what training still falls in an epoch, next to nothing."""
    unit = "of the validation loss, below the next epoch's training loss"
    out = []
    for sid, last, where in (
        ("val_below_beyond_lag", None, "the epochs"),
        (
            "val_below_beyond_lag_late",
            max(gaps.window(int(np.sum(c.both))), lag.BEYOND_MIN_EPOCHS),
            "the last epochs",
        ),
    ):
        relative, share = lag.beyond(c, last)
        out.append(
            Symptom(
                sid,
                share >= BEYOND_LAG_SHARE and relative <= BEYOND_LAG_REL,
                round(-relative, 4),
                unit,
                f"validation is below the training loss reported one epoch later at {share:.0%} "
                f"of {where}, by a median {-relative:.1%} of itself",
            )
        )
    return out


def late_accuracies(c: Curves) -> tuple[float, float, int] | None:
    """Training and validation accuracy averaged over the last epochs that log both, and how
    many epochs that is; None when they are not both logged."""
    if c.train_acc is None or c.val_acc is None:
        return None
    both = np.isfinite(c.train_acc) & np.isfinite(c.val_acc)
    if not both.any():
        return None
    k = gaps.window(int(both.sum()))
    return float(np.mean(c.train_acc[both][-k:])), float(np.mean(c.val_acc[both][-k:])), k


def _accuracies_agree(c: Curves) -> Symptom | None:
    """Training and validation accuracy over the last epochs, when both are logged."""
    late = late_accuracies(c)
    if late is None:
        return None
    train, val, k = late
    return Symptom(
        "accuracies_agree",
        train - val <= ACCURACY_AGREES,
        round(train - val, 4),
        "training minus validation accuracy",
        f"over the last {count(k, 'epoch')} training accuracy is {train:.3g} and validation "
        f"accuracy {val:.3g}",
    )


def _accuracy_deficit(c: Curves) -> list[Symptom]:
    """Training accuracy below the validation accuracy measured before its epoch began (the
    median over the last epochs), when both are logged at two epochs at least: far below it,
    or keeping up with it."""
    if c.train_acc is None or c.val_acc is None:
        return []
    before, train = _previous(c.val_acc), c.train_acc
    pairs = np.isfinite(train) & np.isfinite(before)
    if int(pairs.sum()) < 2:
        return []
    k = gaps.window(int(pairs.sum()))
    deficit = float(np.median(before[pairs][-k:] - train[pairs][-k:]))
    unit = "validation accuracy before the epoch minus training accuracy"
    detail = (
        f"over the last {count(k, 'epoch')} training accuracy is {abs(deficit):.1%} "
        f"{'below' if deficit >= 0 else 'above'} the validation accuracy measured before each of "
        "them"
    )
    return [
        Symptom(
            "train_accuracy_far_below_validation",
            deficit >= ACCURACY_DEFICIT,
            round(deficit, 4),
            unit,
            detail + (", more than dropout costs training" if deficit >= ACCURACY_DEFICIT else ""),
        ),
        Symptom(
            "train_accuracy_keeps_up",
            deficit <= ACCURACY_KEPT_UP,
            round(deficit, 4),
            unit,
            detail
            + (
                ", where wrong training labels hold it lower" if deficit <= ACCURACY_KEPT_UP else ""
            ),
        ),
    ]


def _previous(values: np.ndarray) -> np.ndarray:
    """At each epoch, the last finite value logged at an earlier epoch (NaN before the first)."""
    n = len(values)
    where = np.where(np.isfinite(values), np.arange(n), -1)
    latest = np.maximum.accumulate(where)
    earlier = np.concatenate([[-1], latest[:-1]])
    return np.where(earlier >= 0, values[np.maximum(earlier, 0)], np.nan)


def resolved_share(size: float) -> float:
    """The smallest gap a validation set of this size resolves, as a share of its loss."""
    return MIN_GAP_Z / math.sqrt(size)


def _within_sampling_error(c: Curves, gap: float) -> list[Symptom]:
    """A validation set too small to resolve a gap of a fifth of the loss (config `val_size`, or
    the lattice its accuracies sit on), and a final gap within its sampling error: what the set
    measures is noise."""
    se, size = gaps.sampling_se(c), gaps.validation_size(c)
    if se is None or size is None:
        return []
    resolution = resolved_share(size)
    small = resolution >= UNRESOLVED
    measures = f"{size:g} validation samples measure its loss to about ±{MIN_GAP_Z * se:.3g} "
    measures += f"({resolution:.0%} of it)"
    within = abs(gap) < MIN_GAP_Z * se
    detail = f"{measures}; the final gap is {abs(gap):.3g}"
    errors = None if within else _errors_by_chance(c, size, gap)
    if errors is not None:
        within, detail = errors[0], f"{measures}; {errors[1]}"
    return [
        Symptom(
            "small_validation_set",
            small,
            round(float(resolution), 4),
            "of the validation loss resolved",
            measures,
        ),
        Symptom(
            "gap_within_sampling_error",
            small and within,
            round(float(resolution), 4),
            "of the validation loss resolved",
            detail,
        ),
    ]


def _errors_by_chance(c: Curves, size: float, gap: float) -> tuple[bool, str] | None:
    """Whether the validation set's errors, as few (or as many) as its accuracy says, are what a
    set of this size drawn like the training set holds by chance: a classifier's mean cross
    entropy is carried by the samples it gets wrong, so a set that happens to hold none scores
    far below training. Binomial, at training's error rate over the same epochs."""
    late = late_accuracies(c) if c.task == "classification" else None
    if late is None:
        return None
    train, val, _ = late
    # Accuracies that are not shares, that disagree with the gap's side, or a training set
    # fitted without an error (then the losses differ by confidence, not by errors).
    if not (0 <= train < 1 and 0 <= val <= 1) or (val - train) * gap > 0:
        return None
    n = round(size)
    wrong = round((1 - val) * n)
    p = float(stats.binomtest(wrong, n, 1 - train).pvalue)
    chance = p >= CHANCE_COUNT_P
    return chance, (
        f"its {wrong} errors in {n} are {'' if chance else 'not '}what a set that size holds "
        f"by chance at training's error rate {1 - train:.1%} ({pvalue(p)})"
    )


def gap_trend(c: Curves) -> list[Symptom]:
    if int(np.sum(c.both)) < MIN_EARLY_EPOCHS:
        return []
    gap = c.val[c.both] - c.train[c.both]
    level = c.level()
    k = gaps.window(len(gap))
    early, late = float(np.mean(gap[:k])), float(np.mean(gap[-k:]))
    tau, p = mann_kendall(gap)
    widen = (late - early) / level
    # A log that starts late in training (a resumed run, a scrollback) moves little relative to
    # the loss, yet a material gap growing by a tenth of itself is a gap that widens.
    grows = early >= MIN_GAP_REL * level and late - early >= GAP_GROWTH * early
    tau_abs, p_abs = mann_kendall(np.abs(gap))
    shrink = (abs(early) - abs(late)) / level
    return [
        Symptom(
            "gap_widens",
            tau > 0 and p < TREND_P and (widen >= MIN_TREND_CHANGE or grows) and late > 0,
            round(widen, 4),
            "of the loss level",
            f"validation minus training loss goes from {early:.3g} to {late:.3g} "
            f"(trend tau={tau:+.2f}, {pvalue(p)})",
        ),
        Symptom(
            "gap_shrinks",
            tau_abs < 0 and p_abs < TREND_P and shrink >= MIN_TREND_CHANGE,
            round(shrink, 4),
            "of the loss level",
            f"the distance between the curves goes from {abs(early):.3g} to {abs(late):.3g} "
            f"(trend tau={tau_abs:+.2f}, {pvalue(p_abs)})",
        ),
    ]
