"""Symptoms: what the curves (and a re-evaluation) show, measured before any cause is named.

The differential diagnosis starts here. A cause is considered only when its mechanism can
produce what was measured: each `CauseSpec` names the symptoms it needs and those it cannot
produce. A symptom is present only when it is clear against the curve's own noise *and* large
enough to matter (a share of the loss level): a tiny, significant decline at the end of a cosine
schedule is not "still improving", and a gap of 0.1% of the loss is not a gap. Every symptom
carries its effect size, so the user sees how far from the line it was.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from app.analysis import probe as probes
from app.analysis.checks import gap as gaps
from app.analysis.config_keys import TYPICAL_LR, epoch_mean_training_loss, lr_decades
from app.analysis.curves import Curves
from app.analysis.finding import Finding
from app.analysis.history import FloatArray
from app.analysis.stats import MK_MIN_POINTS, mann_kendall, noise_sigma, theil_sen
from app.analysis.wording import count, pvalue

MIN_GAP_REL = 0.05  # a gap worth 5% of the loss level ...
MIN_GAP_Z = gaps.SIGNIFICANT_Z  # ... and beyond two standard errors of validation loss
MIN_EARLY_EPOCHS = 6  # the first and last windows overlap in shorter runs
MIN_TREND_CHANGE = 0.05  # a gap that widens or shrinks by 5% of the level or more, ...
GAP_GROWTH = 0.1  # ... or, already material at the start, by a tenth of itself
TREND_P = 0.05
MIN_RISE_REL = 0.05  # validation ends 5% of the level above its minimum ...
MIN_RISE_SIGMAS = 3.0  # ... and three noise standard deviations ...
MATERIAL_RISE = 0.01  # ... and 1% of where validation started (stopping earlier must matter)
MIN_IMPROVEMENT = 0.05  # still improving: the last quarter gained 5% of the level or more ...
# ... and a share of where the curve started: a fall from 0.015 to 0.012 on a run that began at
# 0.8 is large next to the final loss level and irrelevant in practice.
MATERIAL_IMPROVEMENT = 0.02
MIN_TREND_POINTS = 4
SHORT_WINDOW = 3  # epochs: the shortest window whose every step going down means something
PLATEAU_REL = 0.5  # training loss ends above half the chance loss (or its starting loss)
STUCK_SHARE = 0.5  # validation recovered under half of what training recovered ...
MIN_TRAIN_PROGRESS = 0.1  # ... while training improved by 10% of the level or more
NOISY_VAL_REL = 0.03  # validation jitters by 3% of the level per epoch or more
LEAK_FRACTION = 0.01  # 1% of validation samples with a copy in training
SHIFT_AUC = 0.75  # a classifier tells the splits apart ...
# ... or a quarter of the input features shift. With thousands of samples one feature of 58 is
# significantly shifted in one run in seven, with an adversarial AUC of 0.5: significant, and
# nothing a model notices; preprocessing that differs between the splits moves nearly all.
SHIFT_SHARE = 0.25
STEPS_MISMATCH = 0.2  # epoch means of the step losses differ from the reported loss by 20%
RECOMPUTE_MISMATCH = 0.35  # |log ratio| / 2 of reported vs recomputed loss (a factor of 2) ...
# ... apart by a share of the curve's first loss: 0.0001 against 0.00005 is a factor of 2 and
# nothing a loss computed differently would produce (dropout and noise do, at that level).
MATERIAL_RECOMPUTE = 0.02
SCALE_RATIO = 3.0  # training and validation losses a factor of 3 apart from the first epochs
SCALE_SPREAD = 0.5  # ... with a log ratio that stays within this spread
BATCH_JITTER = 0.1  # a training curve jittering by 10% of the level per epoch ...
JITTER_RATIO = 5.0  # ... and five times as much as validation, ...
MANY_BATCHES = 20  # ... in an epoch of 20 batches or more (a mean of 4 batches jitters anyway)
JITTER_EPOCHS = 8  # ... judged on this many epochs or more ...
JITTER_TURNS = 1 / 3  # ... where training turns up or down at a third of the epochs or more
NOISY_LABEL_EXCESS = 0.05  # 5 points more rejected labels in training than in validation
# A finite loss that jumps tenfold between two points overshot (`loss_jump`); numerical trouble
# is NaN, infinity, or a jump of orders of magnitude (`nonfinite`, causes.md). In the suite, the
# runs whose losses jumped 10-80x without a NaN had a learning rate too high, none numerical
# trouble.
ORDERS = 2.0
INACTIVE = 1e-3  # train mode changes the loss by under this share of it: no dropout at work
PLANNED_EPOCHS_KEY = "epochs"  # config: the epochs the script was set to train
# A configured learning rate this many decades below the optimizer's usual one: training ten
# times faster is then within reach of a rate still far below the usual (rerunning at lr x 10).
LR_FAR_BELOW = 2.0
# ... or this many above it (thirty times): steps that large overshoot wherever the loss curves.
LR_FAR_ABOVE = math.log10(30)


@dataclass(frozen=True)
class Symptom:
    id: str
    present: bool
    value: float | None  # the effect size, in `unit`
    unit: str
    detail: str


Symptoms = Mapping[str, Symptom]


def present(symptoms: Symptoms) -> frozenset[str]:
    return frozenset(s.id for s in symptoms.values() if s.present)


def _gap_symptoms(c: Curves) -> list[Symptom]:
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
    sigma = gaps.val_sigma(c)
    first_se = max(sigma if sigma is not None else gaps.SHORT_RUN_SE * late.level, late.se)
    first = (va0 - tr0) / late.level
    out.append(
        Symptom(
            "val_below_train_first",
            first <= -MIN_GAP_REL and (tr0 - va0) >= MIN_GAP_Z * first_se,
            round(float(first), 4),
            "of the loss level",
            f"at the first epoch validation loss is {va0:.4g} and training loss {tr0:.4g}",
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
    return out


def _gap_trend(c: Curves) -> list[Symptom]:
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


def _validation_shape(c: Curves) -> list[Symptom]:
    finite = np.isfinite(c.val)
    if int(finite.sum()) < 5:
        return []
    val = c.val[finite]
    level = c.level()
    best = int(np.argmin(val))
    after = val[best:]
    sigma = noise_sigma(val)
    rise = float(np.median(after[-3:]) - val[best]) if len(after) >= 3 else 0.0
    rises = (
        rise / level >= MIN_RISE_REL
        and rise >= MIN_RISE_SIGMAS * sigma
        and rise >= MATERIAL_RISE * abs(float(val[0]))
    )
    out = [
        Symptom(
            "val_rises_after_min",
            rises,
            round(rise / level, 4),
            "of the loss level",
            f"validation loss ends {rise:.3g} above its minimum at epoch "
            f"{c.epoch[finite][best]:g} ({rise / level:.0%} of the level, "
            f"{rise / sigma if sigma > 0 else 0:.1f} noise standard deviations)",
        ),
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
    # epoch on both curves describe comparable weights.
    skip = 1 if epoch_mean_training_loss(c.config) and len(val) > MIN_TREND_POINTS else 0
    train = c.train[finite][skip:]
    ok = np.isfinite(train)
    if ok.sum() >= 2:
        train_gain = float(train[ok][0] - np.min(train[ok])) / level
        val_gain = float(val[skip] - np.min(val[skip:])) / level
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


def _improvement(c: Curves, values: np.ndarray, name: str, curve: str) -> Symptom | None:
    """The last quarter's gain, as a share of the loss level. Clear when the trend is
    significant (Mann-Kendall) or, in a short run where no test can be, when every step of the
    window went down, and when the gain matters: a share of the curve's first loss (effect
    size, not significance: a cosine schedule's last tiny decline is significant too)."""
    finite = np.isfinite(values)
    if int(finite.sum()) < MIN_TREND_POINTS:
        return None
    epochs, y = c.epoch[finite], values[finite]
    k = max(SHORT_WINDOW, len(y) // 4)
    slope = theil_sen(epochs[-k:], y[-k:])
    tau, p = mann_kendall(y[-k:])
    monotone = bool(np.all(np.diff(y[-k:]) < 0))
    fall = -slope * float(epochs[-1] - epochs[-k])
    gain = fall / c.level()
    start = abs(float(y[0]))
    material = start == 0 or fall >= MATERIAL_IMPROVEMENT * start
    trend = f"trend {pvalue(p)}" if k >= MK_MIN_POINTS else "too few epochs for a trend test"
    return Symptom(
        name,
        (monotone or (tau < 0 and p < TREND_P)) and gain >= MIN_IMPROVEMENT and material,
        round(gain, 4),
        "of the loss level over the last quarter",
        f"over the last {count(k, 'epoch')} {curve} loss {'fell' if gain >= 0 else 'rose'} by "
        f"{abs(gain):.1%} of the level and {abs(fall) / start if start else 0:.1%} of its first "
        f"value ({trend}{', every epoch lower' if monotone else ''})",
    )


def _training_shape(c: Curves) -> list[Symptom]:
    out: list[Symptom] = []
    train = _improvement(c, c.train, "train_still_improving", "training")
    val = _improvement(c, c.val, "val_still_improving", "validation")
    out.extend(s for s in (train, val) if s is not None)
    if val is None and train is not None:
        out.append(Symptom("still_improving", *_fields(train)))
    elif val is not None:
        out.append(Symptom("still_improving", *_fields(val)))
    finite = np.isfinite(c.train)
    if finite.sum() >= MIN_TREND_POINTS:
        train_values = c.train[finite]
        start, end = float(np.median(train_values[:2])), float(np.median(train_values[-2:]))
        classes = c.config.get("num_classes")
        reference, against = start, "its starting loss"
        if c.task == "classification" and isinstance(classes, int) and classes >= 2:
            reference, against = float(np.log(classes)), f"chance (ln {classes})"
        ratio = end / reference if reference > 0 else 0.0
        out.append(
            Symptom(
                "high_plateau",
                ratio >= PLATEAU_REL,
                round(ratio, 3),
                "of the reference loss",
                f"training loss ends at {end:.4g}, {ratio:.0%} of {against}",
            )
        )
    return out


def _fields(s: Symptom) -> tuple[bool, float | None, str, str]:
    return s.present, s.value, s.unit, s.detail


def _feature(findings: Mapping[str, Finding], check: str, name: str) -> float:
    f = findings.get(check)
    return float(f.features.get(name, 0.0)) if f is not None else 0.0


def _from_checks(findings: Mapping[str, Finding]) -> list[Symptom]:
    def flagged(check: str) -> bool:
        f = findings.get(check)
        return f is not None and f.status == "flagged"

    def feature(check: str, name: str) -> float:
        return _feature(findings, check, name)

    def detail(check: str) -> str:
        f = findings.get(check)
        return f.detail if f is not None else ""

    def statistic(check: str) -> float | None:
        f = findings.get(check)
        return f.statistic if f is not None else None

    ended = (
        feature("early_stop", "es_tail_short") > 0
        and feature("early_stop", "es_bump_small") > 0
        and feature("early_stop", "es_pre_slope") > 0
    )
    return [
        Symptom(
            "nonfinite",
            feature("nonfinite", "nf_any") > 0 or feature("nonfinite", "nf_jump") >= ORDERS,
            statistic("nonfinite"),
            "",
            detail("nonfinite"),
        ),
        Symptom(
            "loss_jump",
            flagged("nonfinite"),
            round(feature("nonfinite", "nf_jump"), 3),
            "orders of magnitude",
            detail("nonfinite"),
        ),
        Symptom(
            "nan_loss",
            feature("nonfinite", "nf_any") > 0,
            statistic("nonfinite"),
            "",
            detail("nonfinite"),
        ),
        Symptom(
            "unstable_training",
            flagged("stability"),
            statistic("stability"),
            "share of epochs changing direction",
            detail("stability"),
        ),
        Symptom(
            "noisy_labels",
            feature("reeval_loss", "pr_noise_excess") > NOISY_LABEL_EXCESS,
            round(feature("reeval_loss", "pr_noise_excess"), 4),
            "excess share of confidently rejected training labels",
            detail("reeval_loss"),
        ),
        Symptom(
            "accuracy_disagrees",
            flagged("metrics"),
            round(feature("metrics", "ad_divergence"), 3),
            "product of the loss and accuracy trends",
            detail("metrics"),
        ),
        Symptom(
            "loss_exploded",
            feature("failure", "fl_exploded") > 0,
            statistic("failure"),
            "times the lowest loss before it",
            detail("failure"),
        ),
        *(
            Symptom(symptom, feature("failure", name) > 0, None, "", detail("failure"))
            for symptom, name in (
                ("at_chance", "fl_at_chance"),
                ("collapsed_to_chance", "fl_collapsed"),
                ("negative_loss", "fl_negative"),
                ("impossible_loss", "fl_impossible"),
            )
        ),
        Symptom(
            "ended_after_bump",
            ended,
            statistic("early_stop"),
            "epochs after the best validation loss",
            detail("early_stop"),
        ),
    ]


def _copies_matter(p: probes.Probe) -> bool:
    """Copies leak only what the model learned from them: an exact copy does, a near copy (cosine
    similarity; small tabular sets have many) only when the model scores those samples better
    than the rest of validation."""
    if p.exact_duplicates > 0:
        return True
    if p.leaked_val_loss is None or p.clean_val_loss is None:
        return True  # every validation sample has a copy: nothing to compare with
    return p.leaked_val_loss < p.clean_val_loss


def _copies_scored(p: probes.Probe) -> str:
    if p.leaked_val_loss is None or p.clean_val_loss is None:
        return ""
    return (
        f"; the model scores them {p.leaked_val_loss:.3g} against {p.clean_val_loss:.3g} for the "
        f"rest" + (f" ({pvalue(p.leak_p)})" if p.leak_p is not None else "")
    )


def _dropout_active(p: probes.Probe) -> bool:
    """Dropout modules that change the loss when switched on (a model built with p=0, or
    whose dropout the probe could not switch, has them and no dropout)."""
    if not p.has_dropout:
        return False
    if p.train_train_mode is None:
        return True
    return abs(p.train_train_mode - p.train_eval) > INACTIVE * p.scale


def trains_differently(p: probes.Probe, findings: Mapping[str, Finding]) -> bool:
    """Whether anything can make the training loss differ from an eval-mode pass: dropout or
    batch norm in the model, label smoothing, measured augmentation, or what the config
    declares (dropout, smoothing, an L2 term in the loss, mixup, augmentation, batch norm).
    Without any, a reported training loss above the eval-mode one is how it was reported (its
    half-epoch lag, or a loss computed differently), not training-time behaviour."""
    declared = ("cfg_regularized", "cfg_augmentation", "cfg_batch_norm")
    return (
        _dropout_active(p)
        or p.has_batchnorm
        or p.label_smoothing > 0
        or p.augmentation is not None
        or any(_feature(findings, "config", name) > 0 for name in declared)
    )


def _from_probe(c: Curves, findings: Mapping[str, Finding]) -> list[Symptom]:
    p = probes.read(c.probe)
    if p is None:
        return []
    value, low, high = p.eval_gap  # training minus validation loss, both in eval mode
    rel = value / p.scale
    eval_detail = (
        f"re-evaluated in eval mode, the training set scores {p.train_eval_raw:.4g} and validation "
        f"{p.val_eval:.4g} (difference {value:+.3g}, 95% CI {low:+.3g} to {high:+.3g})"
    )
    train_time = p.train_time[0] if p.train_time else 0.0
    possible = trains_differently(p, findings)
    time_sig = bool(p.train_time and p.train_time[1] > 0.1 * p.scale) and possible
    aug_sig = bool(p.augmentation and p.augmentation[1] > 0.1 * p.scale)
    time_detail = (
        f"training-time behaviour (dropout, batch statistics, augmentation, smoothing) adds "
        f"{train_time:+.3g} to the reported training loss"
        if possible
        else f"the reported training loss is {train_time:+.3g} from the eval-mode one, and the "
        "model has no dropout, batch norm, smoothing or augmentation: that is how the loss is "
        "reported (its lag, or a loss computed differently)"
    )
    out = [
        Symptom(
            "eval_val_above",
            high < 0 and -rel >= MIN_GAP_REL,
            round(-rel, 4),
            "of the per-sample loss",
            eval_detail,
        ),
        Symptom(
            "eval_val_below",
            low > 0 and rel >= MIN_GAP_REL,
            round(rel, 4),
            "of the per-sample loss",
            eval_detail,
        ),
        Symptom(
            "train_time_effect",
            time_sig or aug_sig,
            round(train_time / p.scale, 4),
            "of the per-sample loss",
            time_detail,
        ),
    ]
    if p.leaked_fraction is not None:
        out.append(
            Symptom(
                "duplicates",
                p.leaked_fraction >= LEAK_FRACTION and _copies_matter(p),
                round(p.leaked_fraction, 4),
                "of validation samples",
                f"{p.near_duplicates} of {p.n_val} validation samples have a copy in training"
                + _copies_scored(p),
            )
        )
    if p.adversarial_auc is not None:
        out.append(
            Symptom(
                "split_shift",
                p.adversarial_auc > SHIFT_AUC
                or p.features_shifted >= SHIFT_SHARE * max(p.features_tested, 1),
                round(p.adversarial_auc, 3),
                "adversarial AUC",
                f"a classifier tells the splits apart with AUC {p.adversarial_auc:.2f}; "
                f"{p.features_shifted} of {p.features_tested} features shift",
            )
        )
    return out


def _turns(curve: FloatArray) -> float:
    """Share of epochs where the curve changes direction: a loss of one batch jitters up and
    down, while a steep fall (however uneven) never turns."""
    steps = np.sign(np.diff(curve))
    return float(np.mean(steps[1:] != steps[:-1])) if len(steps) >= 2 else 0.0


def _batches_per_epoch(c: Curves) -> float:
    """train_size / batch_size from the config; infinite (no objection) when either is unknown."""
    size, batch = c.config.get("train_size"), c.config.get("batch_size")
    if isinstance(size, bool) or isinstance(batch, bool):
        return float("inf")
    if not isinstance(size, int | float) or not isinstance(batch, int | float) or batch <= 0:
        return float("inf")
    return float(size) / float(batch)


def _recomputed_differs(c: Curves, findings: Mapping[str, Finding]) -> bool:
    """A re-evaluation recomputed a loss a factor apart from the reported one, by an amount
    that matters next to where that curve started."""
    p = probes.read(c.probe)
    if p is None:
        return False
    sides = (
        ("pr_train_logratio", p.train_recompute_diff, c.train),
        ("pr_val_logratio", p.val_recompute_diff, c.val),
    )
    for feature, diff, curve in sides:
        finite = curve[np.isfinite(curve)]
        start = abs(float(finite[0])) if len(finite) else 0.0
        if (
            _feature(findings, "reeval_loss", feature) >= RECOMPUTE_MISMATCH
            and diff is not None
            and abs(diff) >= MATERIAL_RECOMPUTE * start
        ):
            return True
    return False


def _loss_scale(c: Curves, findings: Mapping[str, Finding]) -> Symptom:
    """Two curves that are not the same quantity: a ratio far from 1 already at the first
    epochs that stays put (a sum against a mean, a scale on one side), negative losses, a
    training curve that jitters like one batch while validation is smooth (only the last batch
    reported; judged so only without step losses, which tell directly what the epoch's loss is
    made of), step losses whose epoch means are not the reported loss, or a re-evaluation that
    recomputes another loss than the one reported."""
    steps = _feature(findings, "lag", "steps_mean_mismatch") >= STEPS_MISMATCH
    recomputed = _recomputed_differs(c, findings)
    parts, seen, value = [], False, None
    both = c.both & (c.train > 0) & (c.val > 0)
    if int(both.sum()) >= MIN_TREND_POINTS:
        log_ratio = np.log(c.train[both] / c.val[both])
        first = float(np.mean(log_ratio[: gaps.window(len(log_ratio))]))
        spread = float(np.std(log_ratio))
        level = c.level()
        train_jitter = noise_sigma(c.train[both]) / level
        val_jitter = noise_sigma(c.val[both]) / level
        constant = abs(first) >= np.log(SCALE_RATIO) and spread <= SCALE_SPREAD
        one_batch = (
            not c.has_steps
            and int(both.sum()) >= JITTER_EPOCHS
            and _turns(c.train[both]) >= JITTER_TURNS
            and train_jitter >= BATCH_JITTER
            and train_jitter >= JITTER_RATIO * val_jitter
            and _batches_per_epoch(c) >= MANY_BATCHES
        )
        negative = bool(np.any(c.train[c.both] < 0) or np.any(c.val[c.both] < 0))
        seen, value = constant or one_batch or negative, round(float(np.exp(first)), 4)
        parts.append(f"training/validation loss ratio {np.exp(first):.3g} at the start")
        parts.append(f"spread {spread:.2f} in log over the run")
        parts.append(
            f"epoch jitter {train_jitter:.1%} of the level in training, "
            f"{val_jitter:.1%} in validation"
        )
        if negative:
            parts.append("negative loss values")
    if steps:
        parts.append("epoch means of the step losses differ from the reported training loss")
    if recomputed:
        parts.append("a re-evaluation recomputes another loss than the one reported")
    return Symptom(
        "loss_scale_mismatch",
        seen or steps or recomputed,
        value,
        "training/validation loss ratio",
        "; ".join(parts) or "too few epochs with both losses positive to compare their scale",
    )


def _planned_epochs(c: Curves) -> int | None:
    planned = c.config.get(PLANNED_EPOCHS_KEY)
    if isinstance(planned, bool) or not isinstance(planned, int | float):
        return None
    return int(planned) if math.isfinite(planned) and planned >= 1 else None


def _schedule(c: Curves) -> list[Symptom]:
    """Whether the run trained every epoch it was set to (config `epochs`): early stopping that
    fires ends a run before its plan, so one that ran as planned was not stopped early."""
    planned = _planned_epochs(c)
    if planned is None or c.n == 0:
        return []
    share = c.n / planned
    return [
        Symptom(
            "ran_as_planned",
            share >= 1,
            round(share, 4),
            "of the planned epochs",
            f"{count(c.n, 'epoch')} logged of the {planned} the config plans",
        )
    ]


def _learning_rate(c: Curves) -> list[Symptom]:
    """The configured learning rate against the optimizer's usual one (config `learning_rate`
    and `optimizer`)."""
    decades = lr_decades(c.config)
    if decades is None:
        return []
    optimizer = str(c.config.get("optimizer")).strip().lower()
    detail = (
        f"the configured learning rate is {10 ** abs(decades):.3g} times "
        f"{'below' if decades < 0 else 'above'} the usual {TYPICAL_LR[optimizer]:g} for "
        f"{optimizer}"
    )
    unit = "decades from the optimizer's usual rate"
    return [
        Symptom("lr_far_below_usual", decades <= -LR_FAR_BELOW, round(decades, 3), unit, detail),
        Symptom("lr_far_above_usual", decades >= LR_FAR_ABOVE, round(decades, 3), unit, detail),
    ]


def measure(c: Curves, findings: Mapping[str, Finding]) -> dict[str, Symptom]:
    """Every symptom measured on this run, by id."""
    found = [
        _loss_scale(c, findings),
        *_gap_symptoms(c),
        *_gap_trend(c),
        *_validation_shape(c),
        *_training_shape(c),
        *_schedule(c),
        *_learning_rate(c),
        *_from_checks(findings),
        *_from_probe(c, findings),
    ]
    return {s.id: s for s in found}
