"""The shape of each curve: validation rising after its minimum or jittering, validation stuck
while training improves, a curve still improving, a training loss that plateaus high.
"""

import math

import numpy as np

from app.analysis.checks import gap as gaps
from app.analysis.checks.failure import chance_outcomes
from app.analysis.checks.overfit import MIN_RISE_REL
from app.analysis.config_keys import (
    declares_regularization,
    epoch_mean_training_loss,
    label_smoothing,
)
from app.analysis.curves import Curves
from app.analysis.stats import MK_MIN_POINTS, mann_kendall, noise_sigma, theil_sen
from app.analysis.symptoms.gap import MIN_GAP_Z, TREND_P, UNRESOLVED, resolved_share
from app.analysis.symptoms.symptom import Symptom, fields
from app.analysis.wording import count, pvalue

MIN_SHAPE_POINTS = 5  # validation evaluations from which its noise can be estimated
# Validation ends MIN_RISE_REL (5%, the overfit check's bar too) of the level above its minimum ...
MIN_RISE_SIGMAS = 3.0  # ... and three noise standard deviations ...
MATERIAL_RISE = 0.01  # ... and 1% of where validation started (stopping earlier must matter)
MIN_IMPROVEMENT = 0.05  # still improving: the last quarter gained 5% of the level or more ...
# ... and a share of where the curve started: a fall from 0.015 to 0.012 on a run that began at
# 0.8 is large next to the final loss level and irrelevant in practice.
MATERIAL_IMPROVEMENT = 0.02
# ... or, when the fall is smaller than that share of the level, the curve has not bent: its last
# quarter falls at this share of its average pace over the run or faster. A learning rate too low
# creeps down in a straight line (each quarter a few percent), and continuing keeps paying at
# that pace; a converging curve, or a cosine schedule's tail, has slowed to a small part of it.
# Judged only on quarters long enough for a trend test (16 epochs or more). A training loss
# still improving at that pace creeps (`train_creeps`): the one shape a history shows of a
# learning rate too low, "tiny, nearly constant improvement per epoch" (causes.md).
UNBENT_PACE = 0.5
# ... and no faster than twice it: a last quarter falling at twice the run's average pace or more
# broke through after a plateau. Steps too small slow every part of a curve alike; this one's
# steps moved the loss faster than ever once it found a way down (an LSTM on the adding problem
# at SGD's usual rate, flat for 16 epochs then down 80% in 5, read "learning rate too low, 100%";
# ten times the rate helped none of the 3 such throwaway runs).
BREAKTHROUGH_PACE = 2.0
# A window too short for a trend test (runs under 16 epochs) is most of the run: its fall says
# little of what continuing would bring once the curve bends (0.40, 0.33, 0.31, 0.305: a
# fine-tuning run levelling off). There the gain is projected: the last step's fall, slowing by
# the ratio of the last step to the one before, over as many more epochs as the suites'
# counterfactual "train longer" runs (half the run again, at least five).
CONTINUE_SHARE = 0.5
CONTINUE_EPOCHS = 5
MIN_TREND_POINTS = 4
# Validation still falling over its last quarter by what the counterfactual labels ask of "train
# longer" (5% of the first validation loss): continuing for half the run again, as their reruns
# do, at even half that pace gains it. Of the runs of both generators whose validation fell by
# 5-10% so, 22 of 24 were unfinished (at the former bar of 10%, 13 of 13).
PAST_THE_FLOOR = 0.05
# ... clear of the curve's noise by as much as a rise after the minimum must be: on a validation
# set of 40 samples (jitter 40% of the level) a chance run of lower values in the last quarter
# "falls" by a fifth of the first loss with a significant trend. Every run of both generators
# whose validation fell past the floor cleared it.
FALL_SIGMAS = MIN_RISE_SIGMAS
SHORT_WINDOW = 3  # epochs: the shortest window whose every step going down means something
PLATEAU_REL = 0.5  # training loss ends above half the chance loss (or its starting loss)
# A training loss logged over the first epoch this long or shorter was computed on batches the
# model had not yet seen (epochs counted from 0 or 1)
ONLINE_EPOCHS = 1.0
# A log whose first training loss comes later than this epoch began after training had (a
# resumed run, a scrollback that kept only its last epochs): that loss is no start to measure a
# plateau from. A transformer logged from epoch 16 (training 4.61 to 4.37 in 15 epochs beside a
# validation loss flat 1.6 above it) read "plateau at 95% of its starting loss, underfitting".
LATE_START_EPOCH = 3.0
STUCK_SHARE = 0.5  # validation recovered under half of what training recovered ...
MIN_TRAIN_PROGRESS = 0.1  # ... while training improved by 10% of the level or more
NOISY_VAL_REL = 0.03  # validation jitters by 3% of the level per epoch or more
# A model that memorizes drives its training loss down after validation's minimum while
# validation climbs, then both settle (training near zero, validation on a higher plateau): a
# trend test over the whole stretch after the minimum reads the long, flat plateau and misses
# the climb. The rise held to the end is the effect: this share of where validation started
# (what the suites' counterfactual labels ask of a best checkpoint that helps) ...
MEMORIZED_RISE = 0.05
# ... while training lost this share of its loss at validation's minimum (a run whose training
# loss holds level after that point is not memorizing) ...
MEMORIZED_TRAIN_FALL = 0.3
# ... and climbed over several evaluations: memorizing is gradual, and a one-off step up that
# then holds (a learning-rate change, a resumed run) carries this share of the rise or more.
MEMORIZED_STEP = 0.5
# A training loss logged for this many epochs or more that ends within 5% of where it started
# has learned nothing: steps too small, a model that cannot fit, or a loss the outputs do not
# move. In both generators' runs every one is a learning rate too low or an underfit model, but
# for one healthy run at chance on a task with nothing to learn.
STUCK_EPOCHS = 6
STUCK_CHANGE = 0.05
# Over as many epochs, a training loss that got worse from the start: it ends this share above
# where it began (its first epoch, or its first three epochs' median if lower), never went below
# that, clear of its noise; or, too noisy for that, it trends up over the run (a significant
# Mann-Kendall trend whose Theil-Sen rise is this share of where it began too). Steps that overshoot
# (or a broken pipeline) make that, never a model too small to fit or steps too small, whose
# losses fall, however little, from where they began.
RISES_CHANGE = STUCK_CHANGE
# How low the training loss got: the lowest of its three-epoch running median, so that one
# lucky epoch of a noisy loss does not count as the level it reached.
SMOOTH_EPOCHS = 3
# ... over five epochs in a run of sixty or more: the more windows, the likelier two lucky epochs
# fall in one by chance. A regression on heavy-tailed targets whose epoch means jumped between
# 0.6 and 1.1 for 90-160 epochs (the batches that drew no outlier) reached "0.81" on two such
# epochs in three, "climbed back" to 1.03 and read "learning rate too high, 90%" in three runs
# that a tenth of the rate did not help; five epochs remain a twelfth of such a run or less.
WIDE_SMOOTH_EPOCHS = 5
WIDE_SMOOTH_RUN = 60
# A training loss that climbs back: it gave back this share of its fall from the start ...
CLIMB_SHARE = 0.25
# ... ending this many times its lowest (a loss that flattened on a floor does not), clear of its
# noise by as much as a validation rise must be. In both generators' runs, every one is a
# learning rate too high or a numerically unstable run.
CLIMB_RATIO = 1.25
# A training loss whose last epoch is within this share of its lowest one, every loss finite:
# the run's last steps took it lower than any before, so whatever overshooting it showed on the
# way (under a schedule's peak rate) was not what it ended on. Of 11 throwaway runs in three
# batches whose swings or jumps read as a rate too high (0.51-0.93) and that ended so, a tenth
# of the rate helped 4: a candidate, not a claim. No suite run claimed so ends there.
ENDS_AT_LOWEST = 0.01
# A first validation loss this share or more below the untrained reference (chance, or the first
# epoch's mean training loss) is learning that generalizes; a few percent under it is the spread
# of an untrained model's losses (0.94 against 0.98, then a fivefold jump: inputs scaled unlike
# training's).
GENERALIZED_SHARE = 0.1
# ... and validation accuracy that ends this much above its first evaluation (its last third's
# mean) is learning that carried over, whatever the loss did: a six-class table whose validation
# accuracy went from 0.10 to 0.28 while its loss, never a tenth below the first epoch's training
# loss, rose 2.1 times what training fell (confident mistakes) read "inputs preprocessed
# differently, 90%" on an overfit. Inputs unlike training's keep some of what was learned: the
# runs preprocessed differently that showed validation never improving gained up to 13 points.
ACCURACY_CARRIED_OVER = 0.15
OUTPACED = 1.5  # validation's rise over training's fall beyond memorization's (below)


def validation_shape(c: Curves) -> list[Symptom]:
    finite = np.isfinite(c.val)
    if int(finite.sum()) < MIN_SHAPE_POINTS:
        return _short_rise(c, finite) if int(finite.sum()) >= SHORT_WINDOW else []
    val = c.val[finite]
    level = c.level()
    best = int(np.argmin(val))
    after = val[best:]
    sigma = noise_sigma(val)
    rise = float(np.median(after[-3:]) - val[best]) if len(after) >= 3 else 0.0
    start = abs(float(val[0]))
    material = rise > 0 and rise >= MATERIAL_RISE * start
    rises = rise / level >= MIN_RISE_REL and rise >= MIN_RISE_SIGMAS * sigma and material
    deviations = f", {rise / sigma if sigma > 0 else 0:.1f} noise standard deviations"
    out = [
        _rise(c, float(c.epoch[finite][best]), rise, rises, deviations),
        # The rise's effect size alone, clear of its noise or not: what stopping at the minimum
        # would give back, against where validation began.
        Symptom(
            "val_rise_material",
            material,
            round(rise / start, 4) if start > 0 else None,
            "of validation's first loss",
            f"validation loss ends {rise:.3g} above its minimum, "
            f"{rise / start if start > 0 else 0:.1%} of its first value",
        ),
        _held_as_training_fell(val, c.train[finite], best, rise, rises),
        _rise_outpaces_memorizing(c, val, c.train[finite], best, rise, rises),
        _rise_within_sampling_error(c, rise),
        _never_improves(c, val, rises),
        _rise_outpaces_training(val, c.train[finite]),
        Symptom(
            "noisy_validation",
            sigma / level >= NOISY_VAL_REL,
            round(sigma / level, 4),
            "of the loss level per epoch",
            f"validation loss jitters by {sigma:.3g} from epoch to epoch "
            f"({sigma / level:.1%} of the level)",
        ),
    ]
    # An epoch-mean training loss's first value describes the weights of mid-epoch one, still
    # near their initialization, while validation is measured at its end: from the second
    # epoch on both curves describe comparable weights. A validation loss evaluated before
    # training (a row with no training loss yet) is the untrained model's: all it recovered
    # from there counts, against all training recovered (a fine-tune from 5.7 to 1.1 in its
    # first epoch, then rising, is no validation set held back from the start).
    before_training = not np.isfinite(c.train[finite][0])
    skip = 1 if epoch_mean_training_loss(c.config) and len(val) > MIN_TREND_POINTS else 0
    train = c.train[finite][skip:]
    ok = np.isfinite(train)
    if ok.sum() >= 2:
        train_gain = float(train[ok][0] - np.min(train[ok])) / level
        start = 0 if before_training else skip
        val_gain = float(val[start] - np.min(val[start:])) / level
        share = val_gain / train_gain if train_gain > 0 else 1.0
        out.append(
            Symptom(
                "val_stuck",
                train_gain >= MIN_TRAIN_PROGRESS and share < STUCK_SHARE,
                round(share, 3),
                "of the training loss's improvement",
                f"validation loss improved {val_gain:.0%} of the level while training loss "
                f"improved {train_gain:.0%}",
            )
        )
    return out


def _training_fall_after(train_at_val: np.ndarray, best: int) -> tuple[float, float]:
    """The training loss at validation's minimum and how far it fell from there to the end (the
    median of the last `SHORT_WINDOW` losses); (0, 0) where fewer than that are finite or the
    loss at the minimum is not above zero."""
    train = train_at_val[best:]
    train = train[np.isfinite(train)]
    at_best = float(train[0]) if len(train) >= SHORT_WINDOW else 0.0
    if at_best <= 0:
        return 0.0, 0.0
    return at_best, at_best - float(np.median(train[-SHORT_WINDOW:]))


def _held_as_training_fell(
    val: np.ndarray, train_at_val: np.ndarray, best: int, rise: float, rises: bool
) -> Symptom:
    """Validation's rise after its minimum held to the end, climbed over several evaluations,
    while training loss fell by a material share over the same epochs: memorization, however
    flat both curves end. `train_at_val` is the training loss at each validation evaluation."""
    after = val[best:]
    gradual = len(after) > 1 and float(np.max(np.diff(after))) < MEMORIZED_STEP * rise
    at_best, fall = _training_fall_after(train_at_val, best)
    fell = fall / at_best if at_best > 0 else 0.0
    start = abs(float(val[0]))
    material = start > 0 and rise >= MEMORIZED_RISE * start
    return Symptom(
        "val_rise_held_as_training_fell",
        rises and material and gradual and fell >= MEMORIZED_TRAIN_FALL,
        round(fell, 3),
        "of the training loss at validation's minimum",
        f"training loss fell {fell:.0%} after validation's minimum while validation ended "
        f"{rise / start if start > 0 else 0:.0%} of its first value above that minimum",
    )


def _rise_outpaces_memorizing(
    c: Curves, val: np.ndarray, train_at_val: np.ndarray, best: int, rise: float, rises: bool
) -> Symptom:
    """Validation rose after its minimum by `OUTPACED` times what training fell over the same
    epochs or more, training losing under `MEMORIZED_TRAIN_FALL` of its loss there: the model
    is not memorizing its set (that drives the training loss down as validation climbs), yet
    validation grows worse. Steps that overshoot, or inputs unlike training's that weigh more as
    the weights grow, do that. Three throwaway runs with validation scaled or offset (training
    down 11-21% after the minimum, validation up 3.5-13 times that) read "overfitting, 74-96%"
    though their best checkpoints gained nothing on clean data; the suites' overfits that
    outpaced training so had all trained their loss to near zero. Not where the config declares
    dropout or label smoothing: they hold the reported training loss up (smoothing on a floor
    it cannot pass) while the weights memorize beneath it. Nor for a loss read shifted (curves.py):
    it has no zero of its own for the training loss to fall toward."""
    at_best, fall = _training_fall_after(train_at_val, best)
    fell = fall / at_best if at_best > 0 else 0.0
    outpaced = rise >= OUTPACED * fall if fall > 0 else rise > 0
    return Symptom(
        "val_rise_outpaces_memorizing",
        rises
        and at_best > 0
        and fell < MEMORIZED_TRAIN_FALL
        and outpaced
        and not declares_regularization(c.config)
        and c.offset == 0,
        round(fell, 3),
        "of the training loss at validation's minimum",
        f"after validation's minimum training loss fell {fall:.3g} ({fell:.0%}) while "
        f"validation rose {rise:.3g}",
    )


def _never_improves(c: Curves, val: np.ndarray, rises: bool) -> Symptom:
    """Validation never better than the model was before it learned (not `GENERALIZED_SHARE`
    below that at any evaluation), and rising after its best, while training learns: nothing
    the model learns carries over. A model that overfits first learns what generalizes (every
    overfit of both generators had its first validation loss below chance or below the first
    epoch's training loss); inputs or labels unlike training's never let it. Its best need not
    be its first evaluation: an untrained model's loss drifts by a few thousandths (a six-class
    table at chance, 1.812 on its first evaluation and 1.803 fourteen epochs later, then rising
    to 3.2 on inputs shifted unlike training's). Before it learned: chance for a likelihood
    loss, or the first epoch's mean training loss, each batch of which the model had not yet
    seen (an online estimate of how it does on new data from training's distribution), when
    validation follows that epoch and the weights were still improving (a rate so high that
    the epoch's last steps undid its first makes the end of the epoch worse for any data)."""
    best = float(np.min(val))
    train = c.train[np.isfinite(c.train)]
    learns = len(train) >= 2 and (train[0] - np.min(train)) / c.level() >= MIN_TRAIN_PROGRESS
    references = [r for r in (_chance_reference(c), _online_reference(c)) if r is not None]
    beaten = [(r, against) for r, against in references if best < r * (1 - GENERALIZED_SHARE)]
    reference, against = (beaten or references or [(0.0, "")])[0]
    return Symptom(
        "val_never_improves",
        rises and learns and bool(references) and not beaten and not _accuracy_carried_over(c),
        round(best / reference, 3) if reference > 0 else None,
        f"of {against}" if against else "",
        f"validation loss is never lower than {c.shown(best):.4g}"
        + (f", {best / reference:.0%} of {against}," if reference > 0 else "")
        + " and rises from there",
    )


def _accuracy_carried_over(c: Curves) -> bool:
    """Validation accuracy over the last third of its evaluations at least
    `ACCURACY_CARRIED_OVER` above its first."""
    if c.val_acc is None:
        return False
    acc = c.val_acc[np.isfinite(c.val_acc)]
    if len(acc) < MIN_SHAPE_POINTS:
        return False
    return float(np.mean(acc[-max(1, len(acc) // 3) :]) - acc[0]) >= ACCURACY_CARRIED_OVER


def _rise_within_sampling_error(c: Curves, rise: float) -> Symptom:
    """A rise after the minimum smaller than the sampling error of a validation set too small to
    resolve a fifth of its loss (symptoms.gap): the set measures its own samples growing a little
    worse, which says nothing of data like them. A stable rise of 6% on 60 samples, where the
    set resolves 26% (label smoothing at 0.2: training on its floor, validation accuracy up 7
    points), read "overfitting, 90%"; the best checkpoint did no better on held-back data."""
    se, size = gaps.sampling_se(c), gaps.validation_size(c)
    if se is None or size is None:
        return Symptom("val_rise_within_sampling_error", False, None, "", "validation size unknown")
    small = resolved_share(size) >= UNRESOLVED
    return Symptom(
        "val_rise_within_sampling_error",
        small and 0 < rise < MIN_GAP_Z * se,
        round(rise / (MIN_GAP_Z * se), 4) if se > 0 else None,
        "of the validation set's sampling error",
        f"validation loss ends {rise:.3g} above its minimum; {size:g} validation samples "
        f"measure it to about ±{MIN_GAP_Z * se:.3g}",
    )


def _rise_outpaces_training(val: np.ndarray, train_at_val: np.ndarray) -> Symptom:
    """Validation rose from its first evaluation to its last by more than `OUTPACED` times what
    training fell over the same epochs. A model memorizing what it cannot generalize grows as
    confident on validation's samples as on training's, right or wrong at random: validation
    rises about as much as training falls (0.8 to 1.1 times on the runs of both generators and
    two throwaway batches that memorized from their first epoch). Inputs unlike training's are
    scored wrong with that confidence, all of them: 1.8 to 4 times on every run preprocessed
    differently that showed it."""
    train = train_at_val[np.isfinite(train_at_val)]
    rise = float(val[-1] - val[0])
    fall = float(train[0] - train[-1]) if len(train) >= 2 else 0.0
    ratio = rise / fall if fall > 0 else 0.0
    return Symptom(
        "val_rise_outpaces_training",
        rise > 0 and fall > 0 and ratio >= OUTPACED,
        round(ratio, 3),
        "times training's fall",
        f"validation rose {rise:.3g} from its first evaluation while training fell {fall:.3g}",
    )


def _chance_reference(c: Curves) -> tuple[float, str] | None:
    outcomes = chance_outcomes(c)
    return None if outcomes is None else (math.log(outcomes), f"chance (ln {outcomes})")


def _smoothing_floor(c: Curves) -> float:
    """The lowest loss training can reach under the label smoothing the config declares: the
    entropy of the smoothed target (1 - e + e/K on the label, e/K on each other outcome; K = 2
    per output for a binary cross entropy). A model that predicts every training label as well
    as the smoothing lets it sits there, however far above zero: with 0.2 on three classes,
    0.49, 44% of chance, so that a classifier 91% accurate on its training set read "plateau
    high, underfitting 80%". Zero where the config declares no smoothing or the number of
    outcomes is unknown."""
    outcomes, smoothing = chance_outcomes(c), label_smoothing(c.config)
    if outcomes is None or smoothing == 0:
        return 0.0
    on, off = 1 - smoothing + smoothing / outcomes, smoothing / outcomes
    return float(-on * math.log(on) - (outcomes - 1) * off * math.log(off))


def _online_reference(c: Curves) -> tuple[float, str] | None:
    """The first epoch's mean training loss, where it measures the weights on unseen batches
    and validation is evaluated right after it: a log that starts where training did (a
    resumed run renumbered from 1 is read as if it were the start)."""
    if len(c.train) < 2 or not epoch_mean_training_loss(c.config):
        return None
    first_row = np.isfinite(c.train[0]) and np.isfinite(c.val[0]) and c.epoch[0] <= ONLINE_EPOCHS
    if not first_row or not c.train[1] < c.train[0] or c.train[0] <= 0:
        return None
    return float(c.train[0]), "the first epoch's training loss"


def _short_rise(c: Curves, finite: np.ndarray) -> list[Symptom]:
    """Validation rising after its minimum in a run of three or four evaluations (a fine-tuning
    run of three epochs: 0.36, 0.34, 0.41), too few to estimate its noise: the last one above
    the minimum by as much as a longer run must rise. Little evidence either way (a history
    this short counts little), but the one a user asking about such a run needs weighed."""
    val = c.val[finite]
    best = int(np.argmin(val[:-1]))
    rise = float(val[-1] - val[best])
    level = c.level()
    rises = rise / level >= MIN_RISE_REL and rise >= MATERIAL_RISE * abs(float(val[0]))
    noise = "; too few epochs to tell a rise from noise"
    return [_rise(c, float(c.epoch[finite][best]), rise, rises, noise)]


def _rise(c: Curves, best_epoch: float, rise: float, rises: bool, noise: str) -> Symptom:
    level = c.level()
    return Symptom(
        "val_rises_after_min",
        rises,
        round(rise / level, 4),
        "of the loss level",
        f"validation loss ends {rise:.3g} above its minimum at epoch {best_epoch:g} "
        f"({rise / level:.0%} of the level{noise})",
    )


UNMEASURED: tuple[None, bool, float] = (None, False, 0.0)  # a curve too short for `_improvement`


def _improvement(
    c: Curves, values: np.ndarray, name: str, curve: str
) -> tuple[Symptom, bool, float] | None:
    """The last quarter's gain, as a share of the loss level, whether the curve creeps, and
    the gain as a share of the curve's first value where the curve is still improving.
    Clear when the trend is significant (Mann-Kendall) or, in a short run where no test can be,
    when every step of the window went down, and when the gain matters: a share of the curve's
    first loss (effect size, not significance: a cosine schedule's last tiny decline is
    significant too) and a share of the level, or a pace the curve has kept (a straight-line
    creep)."""
    finite = np.isfinite(values)
    if int(finite.sum()) < MIN_TREND_POINTS:
        return None
    epochs, y = c.epoch[finite], values[finite]
    k = max(SHORT_WINDOW, len(y) // 4)
    slope = theil_sen(epochs[-k:], y[-k:])
    tau, p = mann_kendall(y[-k:])
    monotone = bool(np.all(np.diff(y[-k:]) < 0))
    fall = -slope * float(epochs[-1] - epochs[-k])
    testable = k >= MK_MIN_POINTS
    projection = None if testable or not monotone else _projected(epochs, y)
    window = f"over the last {count(k, 'epoch')}"
    if projection is not None:
        fall, horizon, ratio = projection
        slowing = f"its steps slowing to {ratio:.0%} of the one before"
        window = f"{slowing}, over {horizon:g} more epochs,"
    gain = fall / c.level()
    start = abs(float(y[0]))
    of_start = fall / start if start else 0.0
    material = start == 0 or fall >= MATERIAL_IMPROVEMENT * start
    trend = f"trend {pvalue(p)}" if testable else "too few epochs for a trend test"
    # A quarter too short for a trend test is too short to tell a straight line from a bend.
    pace = _pace(epochs, y, -slope) if testable else 0.0
    kept = f", at {pace:.0%} of its average pace over the run" if testable else ""
    falling = monotone or (tau < 0 and p < TREND_P)
    # Creeping: still falling at the pace the curve has kept, however small each quarter's
    # fall (2.31 to 2.16 in a straight line over 30 epochs), once the whole run fell materially,
    # and reaching new lows at that pace: a curve falling back after a climb (a schedule's warm
    # restart, an overshoot) falls steeply toward where it had been, and steps that climbed
    # were not too small. Continuing it still pays, so it may still be improving.
    creeps = (
        falling
        and UNBENT_PACE <= pace < BREAKTHROUGH_PACE
        and _pace(epochs, y, _new_lows(epochs, y, k)) >= UNBENT_PACE
        and y[0] - y[-1] >= MATERIAL_IMPROVEMENT * start
    )
    symptom = Symptom(
        name,
        falling and material and (gain >= MIN_IMPROVEMENT or pace >= UNBENT_PACE),
        round(gain, 4),
        "of the loss level over the last quarter"
        if projection is None
        else "of the loss level, projected over the epochs continuing would add",
        f"{window} {curve} loss {'would fall' if projection else 'fell' if gain >= 0 else 'rose'} "
        f"by {abs(gain):.1%} of the level and {abs(of_start):.1%} of its "
        f"first value{kept} ({trend}{', every epoch lower' if monotone else ''})",
    )
    return symptom, creeps, of_start if symptom.present else 0.0


def _projected(epochs: np.ndarray, y: np.ndarray) -> tuple[float, float, float] | None:
    """What continuing would gain, with the horizon and the slowing ratio: the last step's fall
    per epoch, shrinking each epoch by its ratio to the step before, summed over the epochs
    continuing adds. None when the last steps are not slowing (a straight line or faster)."""
    spans = np.diff(epochs[-3:])
    per_epoch = -np.diff(y[-3:]) / spans
    if np.any(per_epoch <= 0) or per_epoch[1] >= per_epoch[0]:
        return None
    ratio = float(per_epoch[1] / per_epoch[0])
    r = ratio ** (1 / float(spans[1]))  # per epoch, where validation was logged every few
    horizon = max(CONTINUE_EPOCHS, CONTINUE_SHARE * float(epochs[-1] - epochs[0] + 1))
    return float(per_epoch[1]) * r * (1 - r**horizon) / (1 - r), horizon, ratio


def _pace(epochs: np.ndarray, y: np.ndarray, fall_per_epoch: float) -> float:
    """A fall per epoch (the last quarter's) as a share of the whole run's: near 1 for a
    straight line, near 0 for a curve that has flattened."""
    span, total = float(epochs[-1] - epochs[0]), float(y[0] - y[-1])
    if span <= 0 or total <= 0:
        return 0.0
    return fall_per_epoch / (total / span)


def _new_lows(epochs: np.ndarray, y: np.ndarray, k: int) -> float:
    """How fast, per epoch, the curve's lowest value so far fell over its last `k` epochs: a
    curve that climbed (a schedule's warm restart, an overshoot) and is falling back makes no
    new lows while it recovers, however steep its fall."""
    lowest = np.minimum.accumulate(y)
    span = float(epochs[-1] - epochs[-k - 1]) if len(y) > k else 0.0
    return float(lowest[-k - 1] - lowest[-1]) / span if span > 0 else 0.0


def _validation_turned(c: Curves) -> bool:
    """Validation evaluated too few times for a trend (`MIN_TREND_POINTS`), its last loss above
    the one before: over the epochs training fell, the model scored validation worse, so a
    training loss still falling is no sign that continuing pays (causes.md: both curves still
    improving). A throwaway MLP validated every third epoch of six (0.85, then 0.97, training
    0.71 to 0.51) read "training stopped before convergence, 70%"; its best checkpoint was the
    first."""
    values = c.val[np.isfinite(c.val)]
    return 2 <= len(values) < MIN_TREND_POINTS and bool(values[-1] > values[-2])


def training_shape(c: Curves) -> list[Symptom]:
    out: list[Symptom] = []
    train, creeps, _ = _improvement(c, c.train, "train_still_improving", "training") or UNMEASURED
    val, _, val_share = _improvement(c, c.val, "val_still_improving", "validation") or UNMEASURED
    out.extend(s for s in (train, val) if s is not None)
    if val is None and train is not None:
        turned = _validation_turned(c)
        _, value, unit, detail = fields(train)
        if turned:
            detail += "; validation, too short a curve for a trend, rose at its last evaluation"
        out.append(Symptom("still_improving", train.present and not turned, value, unit, detail))
    elif val is not None:
        values = c.val[np.isfinite(c.val)]
        fall = val_share * abs(float(values[0]))
        clear = fall >= FALL_SIGMAS * noise_sigma(values)
        # A validation fall within its own noise says the run is still improving only beside a
        # training loss that still falls: weights that no longer move cannot improve validation
        # by continuing, and a noisy validation set drifts down by chance as often as up.
        trains_on = train is not None and train.present
        _, value, unit, detail = fields(val)
        out.append(
            Symptom("still_improving", val.present and (clear or trains_on), value, unit, detail)
        )
        # Confirming that continuing pays takes weights that still move: a validation fall
        # projected from three noisy epochs beside a training loss that has levelled off is the
        # noise's (every run of both generators confirmed so was still training).
        out.append(
            Symptom(
                "val_falls_past_the_floor",
                val_share >= PAST_THE_FLOOR and clear and trains_on,
                round(val_share, 4),
                "of its first value over the last quarter",
                val.detail,
            )
        )
    if train is not None:
        out.append(Symptom("train_creeps", creeps, *fields(train)[1:]))
    finite = np.isfinite(c.train)
    if finite.sum() >= MIN_TREND_POINTS:
        out += _training_level(c, c.train[finite])
    return out


def _ends_at_lowest(c: Curves, train: np.ndarray) -> Symptom:
    """Whether the last epoch's training loss is the run's lowest (within `ENDS_AT_LOWEST`),
    every training loss finite."""
    last, lowest = float(train[-1]), float(np.min(train))
    ends = c.nonfinite_train == 0 and last <= (1 + ENDS_AT_LOWEST) * lowest
    where = "the lowest of the run" if ends else f"above the run's lowest, {c.shown(lowest):.4g}"
    return Symptom(
        "train_ends_at_its_lowest",
        ends,
        round(last / lowest, 4) if lowest > 0 else None,
        "times its lowest epoch",
        f"the last epoch's training loss, {c.shown(last):.4g}, is {where}",
    )


def _neither_curve_moved(c: Curves, train_stuck: bool) -> Symptom:
    """A training loss stuck where it began beside a validation loss that got no lower than its
    first evaluation by as much: the model learned nothing either curve shows. Dropout,
    augmentation and the like perturb what a model has fit, so a gap between such curves is the
    draw of the two sets (a GRU that never left the mean of a regression, validation 7% below
    training and dropout 0.1, read "regularization, 75%"; the re-evaluation measured dropout
    adding nothing). A validation loss that fell while training held is what those behaviours
    do, and keeps them in play."""
    val = c.val[np.isfinite(c.val)]
    first = float(val[0]) if len(val) else 0.0
    unit = "change of the validation loss over the run"
    if first == 0:
        return Symptom("neither_curve_moved", False, None, unit, "no validation loss to compare")
    change = (float(np.min(val)) - first) / abs(first)
    return Symptom(
        "neither_curve_moved",
        train_stuck and abs(change) < STUCK_CHANGE,
        round(change, 4),
        unit,
        f"validation loss fell at most {-change:.1%} below its first evaluation, "
        f"{c.shown(first):.4g}, while the training loss stayed where it began",
    )


def _plateau(c: Curves, low: float, start: float) -> tuple[float | None, str]:
    """How high the training loss stayed: its lowest as a share of chance (from label
    smoothing's floor, where the config declares it) or of its starting loss, in words; no share
    where the log began after training had and no chance level is known."""
    first_epoch = float(c.epoch[np.isfinite(c.train)][0])
    chance = _chance_reference(c)
    if chance is None and first_epoch > LATE_START_EPOCH:
        return None, (
            f"but the log begins at epoch {first_epoch:g}, after training had: its first loss is "
            "no start to measure a plateau from"
        )
    reference, against = chance or (start, "its starting loss")
    floor = _smoothing_floor(c)
    ratio = (low - floor) / (reference - floor) if reference > floor else 0.0
    if floor > 0:
        against = f"the way from label smoothing's floor ({floor:.3g}) to {against}"
    return ratio, f"{ratio:.0%} of {against}"


def _training_level(c: Curves, train: np.ndarray) -> list[Symptom]:
    """How low the training loss got, whether it climbed back from there, and whether it ever
    got below where it began. A model that cannot fit never gets low; one whose steps overshoot
    got low, then climbed: its loss ending high is divergence, not a plateau (a run that fell to
    a quarter of its loss and climbed back to its start has no capacity problem), and one that
    only got worse from its first epoch was never held back by its capacity or its step size."""
    start, end = float(train[0]), float(np.median(train[-2:]))
    # Full windows only: a padded edge would let the first epoch's value stand for itself.
    width = WIDE_SMOOTH_EPOCHS if len(train) >= WIDE_SMOOTH_RUN else SMOOTH_EPOCHS
    smooth = np.median(np.lib.stride_tricks.sliding_window_view(train, width), axis=1)
    window = int(np.argmin(smooth))
    lowest, lowest_at = float(smooth[window]), window + width // 2
    low = min(end, lowest)
    sigma = noise_sigma(train)
    where = "ends at" if low == end else "got no lower than"
    ratio, of_what = _plateau(c, low, start)
    change = (low - start) / abs(start) if start != 0 else 0.0
    climb = end - low
    first = min(start, float(smooth[0]))
    rise = end - first
    worse = first > 0 and rise >= RISES_CHANGE * first
    never_lower = lowest >= first and rise >= MIN_RISE_SIGMAS * sigma
    tau, p = mann_kendall(train)
    trend = theil_sen(np.arange(len(train), dtype=float), train) * (len(train) - 1)
    trends_up = tau > 0 and p < TREND_P and trend >= RISES_CHANGE * first
    rises = len(train) >= STUCK_EPOCHS and worse and (never_lower or trends_up)
    stuck = len(train) >= STUCK_EPOCHS and abs(change) < STUCK_CHANGE
    climbs = (
        climb >= CLIMB_SHARE * (start - low)
        and end >= CLIMB_RATIO * low > 0
        and climb >= MIN_RISE_SIGMAS * sigma
        and lowest_at < len(train) - 2
    )
    return [
        Symptom(
            "high_plateau",
            ratio is not None and ratio >= PLATEAU_REL,
            None if ratio is None else round(ratio, 3),
            "of the reference loss",
            f"training loss {where} {c.shown(low):.4g}, {of_what}",
        ),
        Symptom(
            "train_stuck",
            stuck,
            round(change, 4),
            "change of the training loss over the run",
            f"training loss went from {c.shown(start):.4g} to {c.shown(low):.4g} at its lowest "
            f"over {count(len(train), 'epoch')} ({change:+.1%})",
        ),
        _neither_curve_moved(c, stuck),
        Symptom(
            "train_rises_from_start",
            rises,
            round(rise / first, 4) if first > 0 else None,
            "of where the training loss began",
            f"training loss began at {c.shown(first):.4g}, got no lower and ends at "
            f"{c.shown(end):.4g}"
            if never_lower
            else f"training loss trends up over the run ({pvalue(p)}): from "
            f"{c.shown(first):.4g} to {c.shown(end):.4g}",
        ),
        _ends_at_lowest(c, train),
        Symptom(
            "train_climbs_back",
            climbs,
            round(end / low, 3) if low > 0 else None,
            "times its lowest",
            f"training loss got as low as {c.shown(low):.4g} and ends at {c.shown(end):.4g}, "
            f"{end / low if low > 0 else 0.0:.3g} times that",
        ),
    ]
