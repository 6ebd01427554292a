"""Symptoms a re-evaluation of the model on its data measures: the eval-mode gap, what
training-time behaviour adds to the training loss, copies of validation samples in training, a
shift between the splits.
"""

import math
from collections.abc import Mapping

from app.analysis import probe as probes
from app.analysis.checks.reeval_leakage import CHANCE_P, LEAK_FRACTION
from app.analysis.checks.reeval_loss import rejected_labels
from app.analysis.checks.reeval_split import label_shift
from app.analysis.curves import Curves
from app.analysis.finding import Finding
from app.analysis.symptoms.gap import MIN_GAP_REL, late_accuracies
from app.analysis.symptoms.loss_scale import SCALE_RATIO
from app.analysis.symptoms.symptom import Symptom, check_feature
from app.analysis.wording import count, pvalue

SHIFT_AUC = 0.75  # a classifier tells the splits apart ...
# ... or a quarter of the input features shift. With thousands of samples one feature of 58 is
# significantly shifted in one run in seven, with an adversarial AUC of 0.5: significant, and
# nothing a model notices; preprocessing that differs between the splits moves nearly all.
SHIFT_SHARE = 0.25
# ... and two features at least: the probe controls the false discovery rate over features at
# 5%, so on data of two to four features one of them shifts by chance in one run in twenty
# (4 of 80 random splits of 2-D spirals and Friedman data), at an adversarial AUC of 0.53-0.56.
MIN_SHIFTED = 2
# ... by enough to matter: the largest mean shift a tenth of a training standard deviation, or the
# typical feature's spread a fifth wider or narrower. Every shifted split of both suites moves a
# mean by 0.19 SDs or more (a preprocessing mismatch rescales every feature); two of eight
# features of a random split tested significant at a largest shift of 0.06 SDs and read "inputs
# preprocessed differently, 90%".
MIN_MEAN_SHIFT = 0.1
MIN_LOG_SCALE = math.log(1.2)
# A shift that moves nearly every input feature is a transform applied to one split's inputs
# (scaled, offset, normalized with other statistics); one that moves some is a draw of other
# samples, which moves the features that tell them apart. Every preprocessed split of both
# suites moved 92-100% of its features; validation sets drawn from the easy part of the data
# moved 8-75% (a throwaway one on an imbalanced table, 5 of 20, whose overfit model scored it
# worse than training, read "inputs preprocessed differently, 100%").
TRANSFORMED_SHARE = 0.8
TRAIN_TIME_SHARE = 0.1  # training-time behaviour that adds a tenth of the per-sample loss ...
# ... or half of what the reported training loss sits above validation, where that matters: an
# effect that accounts for most of the gap a user asks about explains it, however small next to
# the loss (dropout adding 0.073 to a loss of 0.93 that sits 0.077 above validation).
GAP_SHARE = 0.5
# Per-sample losses are heavy-tailed (a few misclassified samples carry most of a validation
# loss), so the normal interval of a mean difference can span 0 where every rank says the
# splits differ. The shuffled-split permutation test needs no distribution: at this level it
# establishes the direction as well.
PERMUTATION_P = 0.01
COPIES_BETTER_P = 0.05  # near copies the model scores better than the rest of validation ...
COPIES_FAR_BETTER = 0.5  # ... significantly, or at under half the rest's loss ...
# ... and by an amount that matters: 5% under the rest's loss. A transformer left at chance on
# 200 validation samples scored its 80 near copies 0.690 against 0.696 (p = 0.03): a copy it
# learned nothing from, read as leakage at 100%. Of the near-copy leaks of both suites and the
# throwaway batches that were significant and labelled true, every one scored 0.75 of the rest
# or less.
COPIES_MATERIAL = 0.95
# An exact copy is certainly one, so it needs no test; but it leaks only what the model learned
# from it, and a model that scores its copies no better than the rest of validation learned
# nothing that inflates the estimate. That comparison is a measurement only against enough
# samples without a copy: per-sample losses are heavy-tailed, and the first suite's cancer leaks
# kept 6 clean samples, whose mean ranged from 11 times the copies' to a 5,000th of it. Of 9
# throwaway runs whose validation was 36-91% exact copies that the model scored within 5% of
# the rest or worse (28-192 clean samples), validation sat 15% or more under a held-out test
# set's loss in 1, and 7 read "leakage, 96-100%".
MIN_CLEAN_TO_COMPARE = 20
# Wrong training labels a model has not memorized are ones it rejects: 2 points more of the
# training labels than of validation's is their trace (`noisy_labels` claims them from 5). Of the
# re-evaluated runs of both suites and a throwaway batch that scored validation better in eval
# mode, every one with noisy labels but one showed at least 3.9 points, every one without at most
# 2.2; a model that memorized them rejects none, but then its training loss is low, not above
# validation's.
NOISY_LABEL_TRACE = 0.02
# ... and a trace only, under 3 points: every noisy-label run of either suite but one showed 5.5
# points or more (the one, at 2.2, was never claimed), and an easier split of a regression with
# heavy-tailed targets, validation drawn from the samples a linear fit missed least, left
# training 2.3 points more of the outliers every random split holds and read "noisy labels, 99%".
# Between the trace and this, the labels stay a candidate.
NOISY_LABEL_CLAIM = 0.03
REJECTED_UNIT = "excess share of confidently rejected training labels"
# ... measured only on a classifier confident enough to reject a label: one whose validation loss
# is at most half of chance's. A model barely above chance finds no label a third as likely as
# the class it predicts, wrong or not: a second throwaway batch's three noisy-label runs on two
# classes (validation at 0.66-0.87 of chance) rejected none and lost "noisy labels, 0.16-0.66";
# of the runs with noisy labels and no trace, all but one sat above half of chance.
CONFIDENT_ENOUGH = 0.5
# ... or, for a regression, on a model whose validation residuals are at most that share of the
# targets' spread around training's mean: one that misses validation nearly as widely as
# predicting the mean has residuals as wide as a wrong target's error, and counts none of them
# gross (a transformer on 40% replaced targets, validation residuals at 0.95 of the spread,
# counted 1% and refuted the noisy labels that held its training loss 2.5 times validation's).
# A wrong label the model rejects costs training one point of accuracy: where the labels it
# rejects account for under a third of the points by which validation's accuracy beats
# training's, most of that gap is training's samples being harder than validation's, not their
# labels (a split that put the easy samples in validation keeps the ambiguous ones in training,
# and the model rejects some of their labels too: a ten-class table read "noisy labels, 93%" on
# 7% rejected against a gap of 29 points). Every noisy-label run of both suites that logged
# accuracies had its rejections account for 0.46 of the gap or more; the three easier splits
# that showed rejections, 0.18 to 0.27. Judged only where training's logged accuracy is the
# model's own: nothing in the model or the config makes training differ from eval mode.
REJECTIONS_SHARE_OF_GAP = 1 / 3
# Terms the loss itself adds in training, which a pass of the model in train mode does not see.
LOSS_SIDE_TERMS = ("cfg_label_smoothing", "cfg_l2_in_loss", "cfg_mixup")


def _copies_matter(p: probes.Probe) -> bool:
    """Copies leak only what the model learned from them: the model scores them materially
    better than the rest of validation. An exact copy needs nothing more, unless too few samples
    without one are left to compare with (then it is presumed to leak); a near copy (cosine
    similarity; small tabular sets have many) must also score better measurably: significantly,
    or by a large factor where too few samples are left to test. A validation set drawn from
    dense, easy regions of the data has near copies too, and the model scores them like the
    rest of it."""
    if p.leaked_val_loss is None or p.clean_val_loss is None:
        return True  # every validation sample has a copy: nothing to compare with
    better = p.leaked_val_loss < COPIES_MATERIAL * p.clean_val_loss
    if p.exact_duplicates > 0:
        return better or p.n_val - p.near_duplicates < MIN_CLEAN_TO_COMPARE
    significant = p.leak_p is not None and p.leak_p < COPIES_BETTER_P
    return better and (significant or p.leaked_val_loss < COPIES_FAR_BETTER * p.clean_val_loss)


def _beyond_chance(p: probes.Probe) -> tuple[float, str]:
    """The share of validation samples with a copy beyond chance, 0 when the excess is within
    sampling noise, and the sentence that says so."""
    excess, p_value = p.copies_beyond_chance()
    if p_value is None:
        return excess, ""
    detail = (
        f"; by chance {p.chance_copies or 0.0:.1%} of training samples have one in the rest of "
        f"training ({pvalue(p_value)} for more in validation)"
    )
    return (excess if p_value < CHANCE_P else 0.0), detail


def _copies_scored(p: probes.Probe) -> str:
    if p.leaked_val_loss is None or p.clean_val_loss is None:
        return ""
    return (
        f"; the model scores them {p.leaked_val_loss:.3g} against {p.clean_val_loss:.3g} for the "
        f"rest" + (f" ({pvalue(p.leak_p)})" if p.leak_p is not None else "")
    )


def _declares(findings: Mapping[str, Finding], names: tuple[str, ...]) -> bool:
    """Whether the run's config declares any of these (config check features)."""
    return any(check_feature(findings, "config", name) > 0 for name in names)


def trains_differently(p: probes.Probe, findings: Mapping[str, Finding]) -> bool:
    """Whether anything can make the training loss differ from an eval-mode pass: dropout or
    batch norm in the model, label smoothing, measured augmentation, or what the config
    declares (dropout, smoothing, an L2 term in the loss, mixup, augmentation, batch norm).
    Without any, a reported training loss above the eval-mode one is how it was reported (its
    half-epoch lag, or a loss computed differently), not training-time behaviour."""
    declared = ("cfg_regularized", "cfg_augmentation", "cfg_batch_norm")
    return (
        p.dropout_active
        or p.has_batchnorm
        or p.label_smoothing > 0
        or p.augmentation is not None
        or _declares(findings, declared)
    )


def _beyond_train_mode(p: probes.Probe, findings: Mapping[str, Finding]) -> float | None:
    """How many times the model's own training-set loss in train mode (dropout, batch
    statistics: what training-time behaviour does) the reported training loss is, when that is
    a factor of SCALE_RATIO or more and nothing outside the model (label smoothing, an L2 term
    or mixup in the loss) can raise the reported loss; else None. A reported loss of 89 from a
    model that scores 1.39 in train mode is a loss summed or scaled, not regularization."""
    if p.reported_train is None or p.train_train_mode is None or p.train_train_mode <= 0:
        return None
    if p.label_smoothing > 0 or _declares(findings, LOSS_SIDE_TERMS):
        return None
    factor = p.reported_train / p.train_train_mode
    return factor if factor >= SCALE_RATIO else None


def _material(effect: tuple[float, float, float] | None, threshold: float) -> bool:
    """An effect (value, 95% CI) that is there (its interval excludes 0) and matters (its
    value reaches the threshold): significance and effect size, each judged on its own."""
    return effect is not None and effect[1] > 0 and effect[0] >= threshold


def _unresolved(p: probes.Probe, threshold: float) -> bool:
    """Whether the measured training-time effect's interval reaches a material size (its upper
    bound at `threshold` or more, for the passes' effect or augmentation's): too imprecise to
    show that the behaviour adds nothing that matters, however far from significant its value."""
    return any(
        effect is not None and effect[2] >= threshold for effect in (p.train_time, p.augmentation)
    )


def _threshold(p: probes.Probe) -> float:
    """How much training-time behaviour must add to the reported training loss to matter."""
    share = TRAIN_TIME_SHARE * p.scale
    if p.reported_train is None:
        return share
    above = p.reported_train - p.val_eval
    return min(share, GAP_SHARE * above) if above >= MIN_GAP_REL * p.scale else share


def _mode_effects(p: probes.Probe) -> tuple[float | None, float | None]:
    """What the model's dropout (every train-mode change outside batch norm) and its batch norm
    each add to the training set's loss, where the passes tell them apart: a pass with only one
    switched on, or one train-mode pass where the model has only one of them (a model without
    either adds nothing through it); None where they cannot be told apart."""
    if p.train_train_mode is None:
        return None, None
    train_mode = p.train_train_mode - p.train_eval
    dropout: float | None = None
    if p.dropout_only is not None:
        dropout = p.dropout_only - p.train_eval
    elif not p.has_batchnorm:
        dropout = train_mode
    elif not p.has_dropout:
        dropout = 0.0
    batchnorm: float | None = None
    if p.batchnorm_only is not None:
        batchnorm = p.batchnorm_only - p.train_eval
    elif not p.has_batchnorm:
        batchnorm = 0.0
    elif not p.dropout_active:
        batchnorm = train_mode
    return dropout, batchnorm


def _mode_symptoms(
    p: probes.Probe, findings: Mapping[str, Finding], threshold: float
) -> list[Symptom]:
    """Which training-time behaviour the passes find at work. Regularization needs dropout that
    changes the loss or a term the loss adds in training (smoothing, an L2 term, mixup): a model
    whose dropout layers are built with p=0 has neither. Batch norm adds what its pass measures;
    when that is material it is at work, whatever else is."""
    dropout, batchnorm = _mode_effects(p)
    loss_side = p.label_smoothing > 0 or _declares(findings, LOSS_SIDE_TERMS)
    out = []
    if dropout is not None or loss_side:
        added = dropout or 0.0
        parts = [] if dropout is None else [f"dropout switched on adds {added:+.3g}"]
        if loss_side:
            parts.append("the loss adds a term in training (smoothing, L2, mixup)")
        out.append(
            Symptom(
                "regularization_measured",
                loss_side or added > probes.DROPOUT_INACTIVE * p.scale,
                round(added / p.scale, 4),
                "of the per-sample loss",
                "; ".join(parts),
            )
        )
    if batchnorm is not None:
        out.append(
            Symptom(
                "batchnorm_measured",
                batchnorm >= threshold,
                round(batchnorm / p.scale, 4),
                "of the per-sample loss",
                f"batch norm on batch statistics adds {batchnorm:+.3g}"
                if p.has_batchnorm
                else "the model has no batch-norm layers",
            )
        )
    return out


def _features_shift(p: probes.Probe) -> bool:
    """Enough input features shift between the splits, significantly and by a size that
    matters (a classifier telling the splits apart is the other way to show it)."""
    return _shifted_at_least(p, SHIFT_SHARE) and (
        p.max_mean_shift >= MIN_MEAN_SHIFT or p.median_log_scale >= MIN_LOG_SCALE
    )


def _shifted_at_least(p: probes.Probe, share: float) -> bool:
    """At least this share of the tested input features shift, and `MIN_SHIFTED` of them."""
    return p.features_shifted >= max(share * p.features_tested, MIN_SHIFTED)


def _beyond_random_splits(p: probes.Probe, sign: int) -> bool:
    """Validation's mean loss above (sign 1) or below (-1) what random splits of the pooled
    samples give, by the permutation test."""
    return p.perm_p is not None and p.perm_p < PERMUTATION_P and sign * (p.perm_z or 0.0) > 0


def _confident(p: probes.Probe) -> bool:
    """A model confident enough to reject a label: a classifier whose validation loss is at most
    `CONFIDENT_ENOUGH` of chance's, or a regression whose residuals are at most that share of
    the targets' spread (a regression's report that did not measure it is read as confident, a
    classifier whose classes are unknown is not)."""
    share = p.chance_share
    return not p.classifies if share is None else share <= CONFIDENT_ENOUGH


def _could_reject(p: probes.Probe, excess: float) -> bool:
    """Whether the count of rejected labels measured something: an excess of them is a
    measurement however unsure the model (of the 16 noisy-label classifiers of both suites and a
    throwaway batch whose validation sat above half of chance, 15 rejected 4.6 to 16 points
    more of training's labels than of validation's; no such run without noisy labels, over
    2.8); their absence is one only on a `_confident` model. A model that predicts nothing
    (`Probe.predicts`) measures nothing either way, nor does an excess that drawing the samples
    leaves (`Probe.rejections_clear`)."""
    if excess >= NOISY_LABEL_TRACE:
        return p.predicts and p.rejections_clear()
    return p.predicts and _confident(p)


def _unsure_level(p: probes.Probe) -> tuple[float | None, str]:
    """How little the model learned, in the terms `_could_reject` judges it by."""
    return p.chance_share, "of chance's loss" if p.classifies else "of the targets' spread"


def _rejections_fall_short(
    c: Curves, p: probes.Probe, findings: Mapping[str, Finding], rejected: float
) -> str:
    """Where the labels the model rejects account for under `REJECTIONS_SHARE_OF_GAP` of the
    accuracy validation gains over training, that in words ("" otherwise, or unjudged)."""
    late = late_accuracies(c) if p.classifies else None
    if late is None or trains_differently(p, findings):
        return ""
    train, val, k = late
    gap = val - train
    valid = 0 <= train <= 1 and 0 <= val <= 1 and gap > 0
    if not valid or rejected >= REJECTIONS_SHARE_OF_GAP * gap:
        return ""
    return (
        f"; they account for {max(rejected, 0.0) / gap:.0%} of the {gap:.1%} by which "
        f"validation's accuracy beats training's over the last {count(k, 'epoch')}: most of "
        "that gap is harder training samples, not wrong labels"
    )


def unlearned_copies(copies: Symptom) -> bool:
    """Copies beyond chance that the model scores like the rest: the `duplicates` symptom
    measured its fraction but is absent because the copies inflate nothing yet."""
    return not copies.present and (copies.value or 0.0) >= LEAK_FRACTION


def from_probe(c: Curves, findings: Mapping[str, Finding]) -> list[Symptom]:
    p = probes.read(c.probe)
    if p is None:
        return []
    value, low, high = p.eval_gap  # training minus validation loss, both in eval mode
    rel = value / p.scale
    worse = -rel >= MIN_GAP_REL  # validation's excess is material, significant or not
    eval_detail = (
        f"re-evaluated in eval mode, the training set scores {p.train_eval_raw:.4g} and validation "
        f"{p.val_eval:.4g} (difference {value:+.3g}, 95% CI {low:+.3g} to {high:+.3g})"
    )
    train_time = p.train_time[0] if p.train_time else 0.0
    possible = trains_differently(p, findings)
    threshold = _threshold(p)
    beyond = _beyond_train_mode(p, findings)
    time_sig = _material(p.train_time, threshold) and possible and beyond is None
    aug_sig = _material(p.augmentation, threshold)
    if not possible:
        time_detail = (
            f"the reported training loss is {train_time:+.3g} from the eval-mode one, and the "
            "model has no dropout, batch norm, smoothing or augmentation: that is how the loss "
            "is reported (its lag, or a loss computed differently)"
        )
    elif beyond is not None:
        time_detail = (
            f"the reported training loss is {beyond:.3g} times what the model scores on the "
            "training set in train mode (dropout and batch statistics at work): training-time "
            "behaviour cannot make it, the loss is reported differently"
        )
    else:
        time_detail = (
            f"training-time behaviour (dropout, batch statistics, augmentation, smoothing) adds "
            f"{train_time:+.3g} to the reported training loss"
        )
    # An effect neither shown nor ruled out is no measurement of its absence: a recurrent net
    # whose dropout added 0.018 (95% CI -0.029 to 0.065) to a reported loss 0.036 above
    # validation's had regularization refuted and read "the lag, 84%". Of the re-evaluated runs
    # of both suites and three throwaway batches whose passes showed no material effect, 28 had
    # an interval reaching the material size (21 with dropout, augmentation or batch norm at
    # work), 49 one below it (16).
    unresolved = not (time_sig or aug_sig) and possible and beyond is None
    unresolved = unresolved and _unresolved(p, threshold)
    effect_detail = (
        f"{time_detail} (95% CI {p.train_time[1]:+.3g} to {p.train_time[2]:+.3g}): too imprecise "
        f"to tell whether it reaches {threshold:.3g}, what would matter"
        if p.train_time and unresolved
        else time_detail
    )
    out = [
        # Validation scoring no better than the training set in eval mode, however little: what
        # an easier validation set is defined by (scoring lower even in eval mode) measured and
        # not found.
        Symptom(
            "eval_val_not_below",
            rel <= 0,
            round(rel, 4),
            "of the per-sample loss",
            eval_detail,
        ),
        Symptom(
            "eval_val_above",
            (high < 0 or _beyond_random_splits(p, 1)) and worse,
            round(-rel, 4),
            "of the per-sample loss",
            eval_detail,
        ),
        # The size alone, significant or not: what a shift the model is measured to have met
        # costs it (`shift_costs_validation`), where a split shift already says the inputs differ.
        Symptom(
            "eval_val_worse",
            worse,
            round(-rel, 4),
            "of the per-sample loss",
            eval_detail,
        ),
        Symptom(
            "eval_val_below",
            (low > 0 or _beyond_random_splits(p, -1)) and rel >= MIN_GAP_REL,
            round(rel, 4),
            "of the per-sample loss",
            eval_detail,
        ),
        Symptom(
            "train_time_effect_unresolved" if unresolved else "train_time_effect",
            unresolved or time_sig or aug_sig,
            round(train_time / p.scale, 4),
            "of the per-sample loss",
            effect_detail,
        ),
    ]
    out += _mode_symptoms(p, findings, threshold)
    rejected = p.rejected_excess
    counted = p.noise_train is not None and p.noise_val is not None
    judged = counted and _could_reject(p, rejected)
    if counted and not judged:
        level, unit = _unsure_level(p)
        why = (
            "a model this unsure cannot tell a wrong label from its own mistakes"
            if p.rejections_clear()
            else f"drawing {p.n_val} validation samples leaves an excess that large"
        )
        out.append(
            Symptom(
                "labels_unjudged",
                rel > 0,  # where validation scores better in eval mode, as wrong labels make it
                None if level is None else round(level, 4),
                unit,
                f"{rejected_labels(p)}: {why}, so the count cannot show whether training's "
                "labels are wrong; what sets the splits apart in eval mode is then as much the "
                "samples they drew",
            )
        )
    if judged:
        # An unsure model rejects only some of the wrong labels, so its count falls short of
        # the accuracy they cost by its nature: judged against the gap only when confident (a
        # four-class GRU at 0.9 of chance rejecting 2.4 points more of training's 40%-noisy
        # labels had its noisy labels ruled out against a 7.6-point accuracy gap).
        short = _rejections_fall_short(c, p, findings, rejected) if _confident(p) else ""
        share, unit, said = round(rejected, 4), REJECTED_UNIT, rejected_labels(p)
        out += [
            Symptom(
                "labels_rejected",
                rejected >= NOISY_LABEL_TRACE and not short,
                share,
                unit,
                said + short,
            ),
            Symptom(
                "labels_rejected_only_a_trace",
                NOISY_LABEL_TRACE <= rejected < NOISY_LABEL_CLAIM,
                share,
                unit,
                said + ": a trace that harder training samples leave as well",
            ),
        ]
    if p.leaked_fraction is not None:
        excess, chance = _beyond_chance(p)
        copies = excess >= LEAK_FRACTION
        matter = _copies_matter(p)
        # Copies that leak nothing yet are still a split to fix: said, not claimed.
        unlearned = (
            "; the model scores them no better than the rest, so they inflate nothing yet: "
            "remove them before it learns them"
            if copies and not matter
            else ""
        )
        out.append(
            Symptom(
                "duplicates",
                copies and matter,
                round(excess, 4),
                "of validation samples, beyond chance",
                f"{p.near_duplicates} of {p.n_val} validation samples have a copy in training"
                + chance
                + _copies_scored(p)
                + unlearned,
            )
        )
    if p.adversarial_auc is not None:
        shift = p.adversarial_auc > SHIFT_AUC or _features_shift(p)
        shifts = (
            f"a classifier tells the splits apart with AUC {p.adversarial_auc:.2f}; "
            f"{p.features_shifted} of {p.features_tested} features shift"
        )
        out += [
            Symptom("split_shift", shift, round(p.adversarial_auc, 3), "adversarial AUC", shifts),
            Symptom(
                "inputs_transformed",
                shift and _shifted_at_least(p, TRANSFORMED_SHARE),
                round(p.shifted_share, 4),
                "of the input features shifted",
                shifts,
            ),
        ]
    if p.label_p is not None:
        test = "chi-square on the class counts" if p.classifies else "Kolmogorov-Smirnov"
        out.append(
            Symptom(
                "labels_shift",
                p.label_p < probes.LABEL_SHIFT_P,
                float(f"{p.label_p:.3g}"),
                "p-value",
                f"{label_shift(p, p.label_p)} ({test})",
            )
        )
    return out
