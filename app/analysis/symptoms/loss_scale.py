"""Two curves that are not the same quantity: a loss computed or reported differently on the two
sides.
"""

from collections.abc import Mapping

import numpy as np

from app.analysis import probe as probes
from app.analysis.checks import gap as gaps
from app.analysis.curves import Curves
from app.analysis.finding import Finding
from app.analysis.history import FloatArray
from app.analysis.stats import noise_sigma
from app.analysis.symptoms.shape import MIN_TREND_POINTS
from app.analysis.symptoms.symptom import Symptom, check_feature, check_flagged

STEPS_MISMATCH = 0.2  # epoch means of the step losses differ from the reported loss by 20%
RECOMPUTE_MISMATCH = 0.35  # |log ratio| / 2 of reported vs recomputed loss (a factor of 2) ...
# ... apart by a share of the curve's first loss: 0.0001 against 0.00005 is a factor of 2 and
# nothing a loss computed differently would produce (dropout and noise do, at that level).
MATERIAL_RECOMPUTE = 0.02
# Checks whose flag says the training weights swung within epochs (unstable_training, loss_jump).
NONFINITE_CHECK = "nonfinite"
STABILITY_CHECK = "stability"
SCALE_RATIO = 3.0  # training and validation losses a factor of 3 apart from the first epochs
# ... with a log ratio that stays put over the whole run (its range, not its standard deviation,
# which a drift confined to the epochs where the curves moved hardly lifts: a regression
# validated on its easiest samples sat flat for nine epochs, then halved in three as the ratio
# drifted from 4.2 to 4.8, and read "losses computed differently, 100%" at a deviation of
# 0.044): a sum against a mean or a scale on one side holds the ratio to within the batches'
# composition (a range of 0.024 at most in both suites' runs),
# while an additive floor on one side (noisy training labels, a penalty in the loss) moves it
# as the loss falls (a deviation of 0.27 and more), and so do heavy dropout and an easier split
# (a dropout-0.5 regression validated on its easiest samples held 3.5 at a deviation of 0.11:
# "losses computed differently, 100%").
SCALE_SPREAD = 0.05
# A ratio that stays put says "a scale" only where the curves moved: where neither falls by a
# quarter in log (a plateau), an additive floor on one side holds the ratio just as still. Two
# noisy-label regressions and one validated on its easiest samples, all on a plateau, held 3.1 to
# 5.6 at a deviation under 0.04 and read "losses computed differently, 100%" on a throwaway batch.
# There the ratio itself must be one no floor plausibly makes: a sum over a batch against a mean
# is a factor of the batch size (16 and more in every plant of both suites and the batch, which
# sat on plateaus as often: their rates were divided by the batch size).
SCALE_MOVED = 0.25  # log range of the curves that makes a ratio's constancy informative
FLAT_SCALE_RATIO = 10.0
# Nor need such a ratio stay put where the curves moved: a sum over the batch is the batch size
# times the epoch mean, and that mean falls from above validation to below it as the half-epoch
# lag fades and the model fits its set, so the ratio drifts (a summed regression loss fell from
# 85 to 41 times validation's over 33 epochs and read "validation easier, 0.69"). In both
# suites and three throwaway batches, the 30 runs whose training stayed at ten times validation
# or more at every epoch all computed it differently (a sum or a scale); no floor from noisy
# labels, dropout or an easier split held it there (the nearest, a regression validated on its
# easiest samples, at 7.8 times).
BATCH_JITTER = 0.1  # a training curve jittering by 10% of the level per epoch ...
# ... and twice as much as validation, ... (an epoch mean averages the weights of many steps and
# is smoother than a validation loss measured at one instant: overshooting steps move both, and
# no healthy run of either generator or real log jitters in training at even twice validation
# in epochs of 20 batches or more)
JITTER_RATIO = 2.0
MANY_BATCHES = 20  # ... in an epoch of 20 batches or more (a mean of 4 batches jitters anyway)
JITTER_EPOCHS = 8  # ... judged on this many epochs or more ...
JITTER_TURNS = 1 / 3  # ... where training turns up or down at a third of the epochs or more
# ... turning so after the first third of the run, on this many epochs or more there: a curve
# that converges falls steeply and convexly at first, and its second differences read as
# jitter (an 8-epoch regression falling from 0.81 to 0.16 in its first epoch, then turning once
# as it flattened, read "only the last batch reported, 100%"). A loss of one batch turns up and
# down throughout: every last-batch plant of both suites ran 25 epochs or more and turned at
# half of its later epochs or more.
JITTER_BURN_IN = 1 / 3
# ... by an amount that matters next to where the training curve started (as a recomputed loss
# must): a residual CNN that memorized its set, its loss at 0.0001-0.003 from 0.99, jitters by
# its whole level and read "losses computed differently, 100%"; every last-batch plant of both
# suites and the throwaway batches jittered by 5% of its first loss or more.
MATERIAL_JITTER = 0.02
# Validation smooth enough that the weights cannot have swung: its epoch-to-epoch noise under 5%
# of its level. Where steps overshoot (Adam at 30 times its usual rate in the suite), validation
# jitters by 9% of its level and more; beside the last-batch plants of both suites whose
# training swung as much, by 3% at most.
SMOOTH_VALIDATION = 0.05
# Validation jumping by a quarter of its level from epoch to epoch: the weights it was measured
# on swing (it averages nothing), so the checkpoint the last epoch ended with need not score
# the training set as the epoch's mean of its steps did. A throwaway SGD run at nine times the
# usual rate, validation jittering by 66% of its level, recomputed its training loss at 2.5
# times the reported one and read "losses computed differently, 100%"; every recomputed
# mismatch of both suites and the batch that was one jittered by 9% at most.
SWINGING_VALIDATION = 0.25


def _turns(curve: FloatArray) -> float:
    """Share of epochs where the curve changes direction: a loss of one batch jitters up and
    down, while a steep fall (however uneven) never turns."""
    steps = np.sign(np.diff(curve))
    return float(np.mean(steps[1:] != steps[:-1])) if len(steps) >= 2 else 0.0


def _own_jitter(curve: FloatArray) -> float:
    """A curve's epoch-to-epoch noise relative to its own level, which the jitter ratio is
    judged on as well as the run's level: a training loss at ten times validation's level
    (batch statistics in training, a gap that wide) jitters ten times as much in absolute terms
    at the same relative noise. Every loss reported from its last batch in both suites jitters
    four times validation or more on this count; batch-norm runs at a high rate whose
    validation sits far below training, once or less."""
    median = float(np.median(curve))
    return noise_sigma(curve) / median if median > 0 else 0.0


def _jitter_only_reported(c: Curves) -> bool:
    """A training curve that swings while validation, measured at one instant of the same
    weights, stays smooth: weights that swing move validation at least as much (it averages
    nothing), so the swings are in what was reported (one batch's loss), not in the weights."""
    both = c.both & (c.train > 0) & (c.val > 0)
    if int(both.sum()) < MIN_TREND_POINTS:
        return False
    val = _own_jitter(c.val[both])
    return val < SMOOTH_VALIDATION and _own_jitter(c.train[both]) >= JITTER_RATIO * val


def _weights_swing(c: Curves) -> bool:
    """Validation, measured at one instant of the weights, jumps by `SWINGING_VALIDATION` of
    its level from epoch to epoch."""
    finite = np.isfinite(c.val) & (c.val > 0)
    return int(finite.sum()) >= MIN_TREND_POINTS and _own_jitter(c.val[finite]) >= (
        SWINGING_VALIDATION
    )


def _last_epoch_moved(c: Curves) -> bool:
    """Validation's last evaluation `SWINGING_VALIDATION` of its level away from the one before:
    the weights the last epoch ended with are not those its steps averaged over. An LSTM whose
    validation jumped from 0.69 to 1.26 in its last epoch, smooth before, recomputed its
    training loss at 2.2 times the epoch's mean and read "losses computed differently, 100%"."""
    val = c.val[np.isfinite(c.val) & (c.val > 0)]
    if len(val) < 2:
        return False
    last, before = float(val[-1]), float(val[-2])
    return abs(last - before) >= SWINGING_VALIDATION * min(last, before)


def _batch_statistics_lowered(p: probes.Probe) -> bool:
    """A batch-norm model whose reported training loss sits below what it scores on the
    training set: training normalized each batch by its own statistics, and batches that are
    small or not shuffled (one class each) score far better that way than the re-evaluation's
    batches or eval mode do. A throwaway run on label-sorted batches reported 2.19 against a
    recomputed 6.12 in both modes and read "losses computed differently, 100%"; every recomputed
    mismatch of a batch-norm model in both suites and the batch reported a loss above it."""
    return p.has_batchnorm and (p.train_recompute_diff or 0.0) < 0


def _recomputed_differs(c: Curves, findings: Mapping[str, Finding]) -> bool:
    """A re-evaluation recomputed a loss a factor apart from the reported one, by an amount
    that matters next to where that curve started. The training side only when training was
    stable: an epoch-mean loss averages the weights of the whole epoch, and when they swing
    (steps that overshoot) it is no loss of the weights the epoch ended with. A training curve
    that swings beside a smooth validation loss is no such swing: one batch's loss reported
    as the epoch's jitters so (a last-batch plant of the second generator, a third of the
    recomputed loss, read "validation set too small to tell, 90%"). Nor where validation
    swings (`_weights_swing`), or moved in the last epoch alone (`_last_epoch_moved`): the
    weights did, whatever the training curve shows; nor where batch statistics lowered it
    (`_batch_statistics_lowered`). Neither side when a loss went non-finite: the last finite
    loss reported is of weights from before, not of the checkpoint."""
    p = probes.read(c.probe)
    if p is None or check_feature(findings, NONFINITE_CHECK, "nf_any") > 0:
        return False
    # Where the epoch-mean training loss is no loss of the checkpoint, only validation compares.
    incomparable = (
        check_flagged(findings, NONFINITE_CHECK)
        or (check_flagged(findings, STABILITY_CHECK) and not _jitter_only_reported(c))
        or _weights_swing(c)
        or _last_epoch_moved(c)
        or _batch_statistics_lowered(p)
    )
    sides = (
        *((("pr_train_logratio", p.train_recompute_diff, c.train),) if not incomparable else ()),
        ("pr_val_logratio", p.val_recompute_diff, c.val),
    )
    for feature, diff, curve in sides:
        finite = curve[np.isfinite(curve)]
        start = abs(float(finite[0])) if len(finite) else 0.0
        if (
            check_feature(findings, "reeval_loss", feature) >= RECOMPUTE_MISMATCH
            and diff is not None
            and abs(diff) >= MATERIAL_RECOMPUTE * start
        ):
            return True
    return False


def loss_scale(c: Curves, findings: Mapping[str, Finding]) -> list[Symptom]:
    """Two curves that are not the same quantity: a ratio far from 1 already at the first
    epochs that stays put (a sum against a mean, a scale on one side), a training curve that
    jitters like one batch while validation is smooth (only the last batch reported; judged so
    only without step losses, which tell directly what the epoch's loss is made of), step
    losses whose epoch means are not the reported loss, or a re-evaluation that recomputes
    another loss than the one reported. Negative values are no sign: a loss that cannot take
    them is `negative_loss` (checks/failure.py), one that can is read shifted (curves.py)."""
    steps = check_feature(findings, "lag", "steps_mean_mismatch") >= STEPS_MISMATCH
    recomputed = _recomputed_differs(c, findings)
    parts, seen, value, one_batch, jitter = [], False, None, False, None
    both = c.both & (c.train > 0) & (c.val > 0)
    if int(both.sum()) >= MIN_TREND_POINTS:
        log_train, log_val = np.log(c.train[both]), np.log(c.val[both])
        log_ratio = log_train - log_val
        first = float(np.mean(log_ratio[: gaps.window(len(log_ratio))]))
        spread = float(np.ptp(log_ratio))
        moved = max(float(np.ptp(log_train)), float(np.ptp(log_val)))
        ratio = SCALE_RATIO if moved >= SCALE_MOVED else FLAT_SCALE_RATIO
        constant = abs(first) >= np.log(ratio) and spread <= SCALE_SPREAD
        far_apart = float(np.min(log_ratio)) >= np.log(FLAT_SCALE_RATIO)
        level = c.level()
        # Each curve's jitter over every epoch it was logged: validation every other epoch
        # leaves the training loss's epochs between its evaluations to judge it on.
        train, val = (curve[np.isfinite(curve) & (curve > 0)] for curve in (c.train, c.val))
        train_jitter = noise_sigma(train) / level
        val_jitter = noise_sigma(val) / level
        own = _own_jitter(train) >= JITTER_RATIO * _own_jitter(val)
        late = train[int(JITTER_BURN_IN * len(train)) :]
        one_batch = (
            not c.has_steps
            and len(late) >= JITTER_EPOCHS
            and _turns(late) >= JITTER_TURNS
            and train_jitter >= BATCH_JITTER
            and train_jitter >= JITTER_RATIO * val_jitter
            and own
            and noise_sigma(train) >= MATERIAL_JITTER * abs(float(train[0]))
            # unknown sizes count as few batches: a Keras CSV of a run on four batches an
            # epoch, judged anyway, read "losses computed differently, 100%"
            and c.batches_per_epoch() >= MANY_BATCHES
        )
        jitter = round(min(train_jitter / val_jitter, 1e6), 2) if val_jitter > 0 else None
        seen, value = constant or far_apart or one_batch, round(float(np.exp(first)), 4)
        parts.append(f"training/validation loss ratio {np.exp(first):.3g} at the start")
        parts.append(f"range {spread:.2f} in log over the run")
        parts.append(f"at every epoch at least {np.exp(np.min(log_ratio)):.3g}")
        parts.append(
            f"epoch jitter {train_jitter:.1%} of the level in training, "
            f"{val_jitter:.1%} in validation"
        )
    if steps:
        parts.append("epoch means of the step losses differ from the reported training loss")
    if recomputed:
        parts.append("a re-evaluation recomputes another loss than the one reported")
    detail = "; ".join(parts) or "too few epochs with both losses positive to compare their scale"
    return [
        Symptom(
            "loss_scale_mismatch",
            seen or steps or recomputed,
            value,
            "training/validation loss ratio",
            detail,
        ),
        # An epoch mean over many batches cannot jitter five times as much as a validation
        # loss measured at one instant (overshooting steps show in validation first): the
        # reported training loss is not that mean.
        Symptom(
            "train_jitters_like_one_batch",
            one_batch,
            jitter,
            "times validation's epoch-to-epoch jitter",
            detail,
        ),
    ]
