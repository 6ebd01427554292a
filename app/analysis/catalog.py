"""The cause catalog (causes.md): ids, kinds, titles, the features each cause's model reads,
the checks cited as evidence, and the words and actions a user gets, filled with this run's
numbers."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding
from app.analysis.probe import REEVALUATE_HOW
from app.analysis.symptoms import OVERSHOOTING, OVERSHOT

Kind = Literal["benign", "problem"]
Text = Callable[[Curves, Mapping[str, Finding]], str]
Actions = Callable[[Curves, Mapping[str, Finding]], tuple[str, ...]]


@dataclass(frozen=True)
class CauseSpec:
    """A cause of the catalog. Besides its words, it declares its mechanism: the symptoms it
    needs (`requires`: every group must have one present symptom), those it cannot produce
    (`excludes`), the re-evaluation measurements that are the cause itself, so that a
    re-evaluation that measured one and found nothing refutes it (`refuted_without`), and the
    symptoms that are the cause by definition, so that one present confirms it whatever a
    fitted model says (`confirmed_by`: a NaN loss *is* numerical trouble), the symptoms that
    confirm another cause and that its own mechanism produces as well (`also_produces`: then the
    confirmation says that one of them is at work, and they share it), the symptoms
    showing that its mechanism produces only part of what was measured, so that the causes that
    can produce the rest are weighed as alternatives one of which is at work (`partial_when`: a
    gap wider than any half-epoch lag), and the symptoms of which one must be present for it
    to be claimed (`claimed_with`): a problem whose other symptoms the benign half-epoch lag
    also makes stays a candidate without one; and those with which it stays a candidate
    whatever else is present (`unclaimed_with`): the re-evaluation could not make the one
    measurement that tells it from causes sharing the rest of its evidence. A behaviour the
    config declares (`declared_by`: dropout, augmentation, a rate far above the usual one) that
    the models claim or a symptom confirms accounts for the symptoms its mechanism produces
    (`accounts_for`): a problem claimed only with those stays a candidate too. Where the
    declaration alone can produce them whatever its size (`declaration_suffices`: a rate thirty
    times the usual one holds any loss high), it accounts for them wherever it is declared."""

    id: str
    kind: Kind
    title: str
    features: tuple[str, ...]  # what its model reads: the evidence a domain expert would weigh
    evidence: tuple[str, ...]  # checks cited as evidence
    explain: Text
    actions: Actions
    requires: tuple[frozenset[str], ...] = ()
    excludes: frozenset[str] = frozenset()
    refuted_without: frozenset[str] = frozenset()
    confirmed_by: frozenset[str] = frozenset()
    also_produces: frozenset[str] = frozenset()
    partial_when: frozenset[str] = frozenset()
    claimed_with: frozenset[str] = frozenset()
    unclaimed_with: frozenset[str] = frozenset()
    declared_by: frozenset[str] = frozenset()
    accounts_for: frozenset[str] = frozenset()
    declaration_suffices: bool = False
    settle: str = ""  # what measurement would settle it, for a user who wants to know

    def compatible(self, present: frozenset[str]) -> bool:
        """Whether its mechanism can produce what was measured."""
        return all(group & present for group in self.requires) and not self.excludes & present

    def refuted(self, measured: frozenset[str], present: frozenset[str]) -> bool:
        """A re-evaluation measured the cause's own signature and did not find it."""
        return bool(self.refuted_without & measured - present)


def _detail(findings: Mapping[str, Finding], check: str) -> str:
    """A check's sentence, when it ran: a skipped check has nothing to say about this run."""
    finding = findings.get(check)
    return finding.detail if finding and finding.status != "skipped" else ""


def _best_epoch(c: Curves) -> str:
    finite = np.isfinite(c.val)
    if not finite.any():
        return "the best epoch"
    return f"epoch {c.epoch[finite][int(np.argmin(c.val[finite]))]:g}"


def _text(template: str, *checks: str) -> Text:
    def build(c: Curves, findings: Mapping[str, Finding]) -> str:
        facts = "; ".join(d for d in (_detail(findings, k) for k in checks) if d)
        return f"{template} In this run: {facts}." if facts else template

    return build


def _fixed(*actions: str) -> Actions:
    return lambda c, f: tuple(actions)


def _any(*symptoms: str) -> frozenset[str]:
    return frozenset(symptoms)


# Validation below training somewhere: at the end, over the first epochs, or at the first one.
VAL_BELOW = _any("val_below_train", "val_below_train_early", "val_below_train_first")
ANY_GAP = VAL_BELOW | _any("val_above_train", "val_above_train_early")
# Validation below training beyond the first epoch. At the first epoch alone it is the epoch-mean
# training loss's lag (the first epoch's mean includes the untrained start); leaked samples, an
# easier split or noisy training labels keep validation below training for longer.
VAL_BELOW_SUSTAINED = _any("val_below_train", "val_below_train_early")
# Validation below even the next epoch's training loss: more than the half-epoch lag can make.
# The causes that lower validation, or raise the reported training loss, produce it.
BEYOND_LAG = _any("val_below_beyond_lag")
# What a penalty or altered inputs active only while training produce: a reported training loss
# raised above validation (by more than any lag) and held on a higher floor.
TRAINING_TIME = VAL_BELOW | BEYOND_LAG | _any("high_plateau", "high_plateau_after_enough_steps")
# A training loss that stays high, at chance or where it started: what a model that cannot fit
# its training set shows; after enough steps to have left its start (symptoms/__init__.py),
# what it shows of its own.
NOT_FITTING = _any("high_plateau", "at_chance", "train_stuck")
NOT_FITTING_AFTER_STEPS = _any(
    "high_plateau_after_enough_steps", "at_chance_after_enough_steps", "stuck_after_enough_steps"
)
# Neither curve left where it began: a model that learned nothing has no fit for a penalty or
# altered inputs active only while training to perturb, so they are candidates there, never
# claimed (a model that fit all it could within its first steps shows the same curves, and its
# dropout may still be at work). In both suites no run with it had either behaviour at work.
LEARNED_NOTHING = _any("neither_curve_moved")
# The optimization itself broke (the loss exploded, or fell back to chance after overshooting):
# only the learning rate, numerical trouble or a loss computed wrongly produce that, and what
# the curves then show says nothing about the split, regularization or convergence.
BROKE = _any("loss_exploded", "collapsed_to_chance")
# Batch statistics from unshuffled, single-class batches also leave a classifier at chance,
# and a model too small to learn sits there: they are excluded only by an explosion.
EXPLODED = _any("loss_exploded")
# A loss that went NaN or infinite, or jumped by orders of magnitude.
BLEW_UP = _any("nonfinite")
# A training loss that only got worse from its first epoch: a model too small to fit, or steps
# too small, still lowers it from where it began.
WORSENED = _any("train_rises_from_start")
# A classifier that ends at chance predicts nothing: the split, regularization, early stopping
# or overfitting cannot be why (the learning rate, capacity, the loss or batch statistics can).
AT_CHANCE = _any("at_chance")
# A loss that cannot be negative went negative, or a cross entropy sits below what its own
# accuracy allows: it is not computed on what it should be.
NOT_A_LOSS = _any("negative_loss", "impossible_loss")
REEVALUATE = f"re-evaluating a checkpoint on the data ({REEVALUATE_HOW})"


CAUSES: tuple[CauseSpec, ...] = (
    CauseSpec(
        "regularization_train_only",
        "benign",
        "Regularization active only during training",
        (
            "gap_rel",
            "gap_below_frac",
            "off_late_rel",
            "off_stable",
            "off_neg_stable",
            "acc_inverted",
            "cfg_dropout",
            "cfg_label_smoothing",
            "cfg_l2_in_loss",
            "cfg_mixup",
            "cfg_regularized",
            "lag_shrink",
            "lag_closed",
            "pr_present",
            "pr_train_time",
            "pr_train_time_sig",
            "pr_train_mode",
            "pr_dropout_effect",
            "pr_has_dropout",
            "pr_smoothing",
            "pr_val_train_mode",
            "pr_aug_effect",
            "pr_bn_effect",
            "pr_eval_gap",
            "pr_train_logratio",
        ),
        (
            "offset",
            "gap",
            "reeval_modes",
        ),
        _text(
            "Dropout, label smoothing, mixup or an L2 term in the reported loss raise the "
            "training loss but are off when validating, so validation loss sits below it by a "
            "roughly constant amount.",
            "offset",
            "config",
            "reeval_modes",
        ),
        _fixed(
            "Nothing to fix: compare train and validation loss both in eval mode to see the "
            "true gap (re-evaluate the checkpoint on the training set with model.eval()).",
        ),
        requires=(VAL_BELOW | BEYOND_LAG | _any("train_time_effect"),),
        excludes=_any("val_above_train") | BROKE | AT_CHANCE | NOT_A_LOSS,
        # Measured: dropout that changes the loss, or a term the loss adds in training.
        refuted_without=_any("train_time_effect", "regularization_measured"),
        # Training accuracy 15 points or more below validation's is more than dropout costs
        # training (7 points at most in both suites): something else lowers it, and dropout is
        # then a candidate beside it, not the explanation. Out of family, the digits runs with
        # 35% flipped labels and dropout 0.3 (training accuracy 0.69 against 0.95) read
        # "regularization, 68%" ahead of the labels.
        unclaimed_with=_any("accuracy_deficit_beyond_dropout") | LEARNED_NOTHING,
        declared_by=_any("declares_regularization"),
        accounts_for=TRAINING_TIME,
        settle=f"{REEVALUATE}: the training set scored in train and in eval mode",
    ),
    CauseSpec(
        "augmentation_train_only",
        "benign",
        "Augmentation makes training inputs harder",
        (
            "gap_rel",
            "gap_below_frac",
            "off_late_rel",
            "off_neg_stable",
            "acc_inverted",
            "cfg_augmentation",
            "cfg_regularized",
            "pr_present",
            "pr_train_time",
            "pr_train_time_sig",
            "pr_aug_effect",
            "pr_aug_sig",
            "pr_train_mode",
            "pr_eval_gap",
        ),
        (
            "offset",
            "gap",
            "reeval_modes",
        ),
        _text(
            "Random augmentation applies to training inputs only, so the clean validation "
            "inputs are easier and score a lower loss.",
            "offset",
            "config",
            "reeval_modes",
        ),
        _fixed(
            "Nothing to fix: score the un-augmented training set in eval mode to confirm the "
            "gap closes.",
        ),
        requires=(VAL_BELOW | BEYOND_LAG | _any("train_time_effect"),),
        excludes=_any("val_above_train") | BROKE | AT_CHANCE | NOT_A_LOSS,
        refuted_without=_any("train_time_effect"),
        unclaimed_with=LEARNED_NOTHING,
        declared_by=_any("declares_augmentation"),
        accounts_for=TRAINING_TIME,
        settle=f"{REEVALUATE} with x_train_raw: augmented against raw training inputs",
    ),
    CauseSpec(
        "measurement_lag",
        "benign",
        "Training loss lags half an epoch behind",
        (
            "lag_coef",
            "lag_r2",
            "lag_closed",
            "lag_shrink",
            "lag_steps_closed",
            "has_steps",
            "gap_rel",
            "gap_first_rel",
            "cfg_epoch_mean",
            "off_stable",
            "pr_present",
            "pr_train_time",
            "pr_train_mode",
        ),
        (
            "lag",
            "gap",
        ),
        _text(
            "Training loss is averaged over each epoch while the weights improve; validation "
            "is measured at the epoch's end, so the training curve lags by about half an "
            "epoch and the gap is largest where the curves are steepest.",
            "lag",
        ),
        _fixed(
            "Nothing to fix: plot the training curve shifted half an epoch left, or log the "
            "training loss of the last steps of each epoch.",
        ),
        requires=(VAL_BELOW,),
        excludes=BROKE | NOT_A_LOSS,
        # Validation below an epoch-mean training loss that the last steps of each epoch
        # bring level with it: the lag itself, measured.
        confirmed_by=_any("last_steps_close_gap"),
        partial_when=BEYOND_LAG,
        # A gap only at the end of the run, beyond what the lag makes there: the lag may be at
        # work by a little, a candidate, not the explanation (a GRU with dropout 0.5 whose
        # curves had flattened under a one-cycle schedule, validation 11% below training, read
        # "lag, 72%" where the re-evaluation measured dropout adding 0.029 of the 0.067; 3 of
        # the 28 such runs of both suites and two throwaway batches had the lag at work).
        unclaimed_with=_any("late_gap_beyond_lag"),
        settle="per-step training losses, or the training loss of each epoch's last steps",
    ),
    CauseSpec(
        "batchnorm_mode",
        "benign",
        "Batch normalization behaves differently in training",
        (
            "cfg_batch_norm",
            "cfg_bn_small_batch",
            "gap_rel",
            "val_noise_rel",
            "st_rough",
            "gap_below_frac",
            "pr_present",
            "pr_train_time",
            "pr_train_time_sig",
            "pr_bn_effect",
            "pr_has_bn",
            "pr_train_mode",
            "pr_has_dropout",
            "pr_eval_gap",
        ),
        (
            "gap",
            "config",
            "reeval_modes",
        ),
        _text(
            "Batch normalization normalizes with per-batch statistics while training and with "
            "running statistics while evaluating; with small or non-i.i.d. batches the two "
            "disagree.",
            "gap",
            "config",
            "reeval_modes",
        ),
        _fixed(
            "Re-evaluate the training set in train mode and in eval mode with the training "
            "batch size; use a larger batch or GroupNorm if they disagree much.",
        ),
        requires=(
            ANY_GAP | BEYOND_LAG | _any("noisy_validation", "train_time_effect", "at_chance"),
        ),
        excludes=EXPLODED | NOT_A_LOSS,
        # Batch statistics of small or non-i.i.d. batches can keep a model from leaving chance
        # at a usual rate, as a model too small to fit does: where the config declares no batch
        # norm (one that declares it never shows the symptom, which would otherwise confirm
        # underfitting). Running statistics unlike the training batches' also send every
        # validation input to one answer while training learns (`val_predictions_frozen`).
        also_produces=_any("at_chance_with_few_parameters", "val_predictions_frozen"),
        # Batch-norm layers that, switched to batch statistics alone, add a material share to
        # the training loss are at work (their absence refutes nothing: the probe's batches
        # are i.i.d., and non-i.i.d. batches in training are what they cannot reproduce).
        confirmed_by=_any("batchnorm_measured"),
        # Claimed only where the curves or a re-evaluation show what it does: a reported
        # training loss raised above validation for more than the first epoch, or a measured
        # training-time effect. A declared batch-norm layer in a run whose validation never sat
        # below training, re-evaluated or not, explains nothing the user sees: every suite run
        # it is true of shows validation below training early on, and of 25 throwaway runs that
        # declared it without (most of them left at chance by a hard task or a tiny rate), 3
        # were labelled so and the models had claimed 13.
        claimed_with=VAL_BELOW_SUSTAINED
        | BEYOND_LAG
        | _any("train_time_effect", "batchnorm_measured"),
        settle=f"{REEVALUATE}: batch-norm layers in train against eval mode at the batch size",
    ),
    CauseSpec(
        "small_validation_noise",
        "benign",
        "The validation set is too small to tell",
        (
            "gap_within_noise",
            "gap_z",
            "val_noise_rel",
            "cfg_val_size_inv",
            "gap_rel",
        ),
        ("gap",),
        _text(
            "The gap is within the noise of the validation loss, so it does not mean much.", "gap"
        ),
        _fixed(
            "Use a larger validation set, or average the validation loss over several "
            "epochs before comparing.",
        ),
        requires=(BEYOND_LAG | _any("noisy_validation", "gap_within_noise"),),
        excludes=BROKE | AT_CHANCE | NOT_A_LOSS,
        # The cause by definition: the gap lies within the sampling error of a set this small.
        confirmed_by=_any("gap_within_sampling_error"),
        # A loss that jitters, with nothing known of the set's size: a model's own epoch-to-epoch
        # swings on a large set (MNIST's 10,000 samples) look the same.
        claimed_with=_any("small_validation_set"),
        # Confirmed, a set this small accounts for validation sitting below training by more
        # than any lag: a set that happens to hold none of the samples the model gets wrong
        # scores far below training, so that is no evidence of its own for leaked samples, an
        # easier split or noisy training labels.
        accounts_for=BEYOND_LAG,
        settle="a larger validation set, or the config key val_size",
    ),
    CauseSpec(
        "accuracy_loss_divergence",
        "benign",
        "Loss and accuracy disagree",
        (
            "ad_divergence",
            "ad_acc_holds",
            "has_accuracy",
            "of_tau",
            "of_rise_rel",
            "of_val_progress",
            "of_logp",
            "of_train_falls",
        ),
        ("metrics",),
        _text(
            "Loss measures confidence while accuracy counts only the arg-max: the model can "
            "grow over-confident on a few wrong answers (loss up) while getting more right "
            "(accuracy up).",
            "metrics",
        ),
        lambda c, f: (
            f"Choose the checkpoint by the metric you care about; by loss, stop at "
            f"{_best_epoch(c)}.",
        ),
        requires=(_any("accuracy_disagrees"),),
        excludes=BROKE | AT_CHANCE | NOT_A_LOSS,
        settle="validation accuracy logged with the loss for every epoch",
    ),
    CauseSpec(
        "data_leakage",
        "problem",
        "Validation samples leak into training",
        (
            "gap_rel",
            "gap_below_frac",
            "gap_first_rel",
            "gap_track",
            "of_tau",
            "of_rise_rel",
            "cfg_regularized",
            "cfg_augmentation",
            "off_neg_stable",
            "lag_closed",
            "ls_ratio_stable",
            "ls_log_ratio",
            "ls_train_over_val",
            "gap_within_noise",
            "pr_present",
            "pr_leak_frac",
            "pr_exact_frac",
            "pr_leak_loss",
            "pr_eval_gap",
            "pr_perm_z",
        ),
        (
            "gap",
            "reeval_leakage",
        ),
        _text(
            "When validation samples also appear in the training set, validation loss tracks "
            "or beats training loss as the model memorizes them.",
            "gap",
            "reeval_leakage",
        ),
        _fixed(
            "Search for exact and near-duplicate samples across the split (upload a "
            "checkpoint and data for re-evaluation), and split before any augmentation.",
        ),
        requires=(VAL_BELOW_SUSTAINED | BEYOND_LAG | _any("gap_within_noise", "duplicates"),),
        excludes=BROKE | AT_CHANCE | NOT_A_LOSS,
        refuted_without=_any("duplicates"),
        # Validation level with (or below) training within the lag is also what a model with
        # no generalization gap shows (large data sets): leaked samples are claimed from the
        # curves only when validation sits below even the next epoch's training loss.
        claimed_with=BEYOND_LAG | _any("duplicates"),
        settle=f"{REEVALUATE}: a search for validation samples copied in the training set",
    ),
    CauseSpec(
        "easier_validation",
        "problem",
        "The validation set is easier than the training set",
        (
            "gap_rel",
            "gap_below_frac",
            "gap_first_rel",
            "off_neg_stable",
            "cfg_regularized",
            "cfg_augmentation",
            "lag_closed",
            "lag_shrink",
            "ls_ratio_stable",
            "ls_log_ratio",
            "ls_train_over_val",
            "pr_present",
            "pr_eval_gap",
            "pr_eval_gap_pos",
            "pr_perm_z",
            "pr_adv_auc",
            "pr_label_shift",
            "pr_leak_frac",
            "pr_scale",
            "pr_train_time",
        ),
        (
            "gap",
            "offset",
            "reeval_split",
        ),
        _text(
            "A validation set drawn from an easier distribution scores lower than the "
            "training set even in eval mode.",
            "gap",
            "reeval_split",
        ),
        _fixed(
            "Re-evaluate the training set in eval mode: if it still scores worse than "
            "validation, compare the splits (adversarial validation) and re-split at random.",
        ),
        requires=(VAL_BELOW_SUSTAINED | BEYOND_LAG | _any("eval_val_below"),),
        # Nor where the re-evaluated model scores validation no better than the training set in
        # eval mode: an easier set is one that scores lower even there (a dropout MLP whose
        # validation curve sat below training's, eval-mode validation 10% above the training
        # set, read "validation easier, 69%"; no easier plant of either suite scored so).
        excludes=_any("val_above_train", "eval_val_not_below") | BROKE | AT_CHANCE | NOT_A_LOSS,
        # The model scores validation better in eval mode and a classifier tells the splits'
        # inputs apart, or their labels differ in distribution: the validation set is drawn
        # from an easier distribution, measured. Of the runs of both suites and two throwaway
        # batches with validation significantly better in eval mode and the labels shifted
        # (p < 0.001), all 16 had an easier split (recurrent nets that learned nothing of a
        # regression whose validation held the targets nearest the mean among them); no
        # noisy-label run shifted its labels so. Not where the model rejects as many training
        # labels as wrong labels make it, rejections that account for the accuracy validation
        # gains (`wrong_labels_measured`): wrong labels drawn uniformly move the class counts of
        # an unbalanced set too. Fewer, or far short of that gap, are what an easier split
        # leaves as well, its ambiguous samples kept in training: a throwaway GRU whose balanced
        # four-class validation held the samples a linear model found easiest, labels shifted at
        # p = 5e-9, rejected 5 points more of training's labels than of validation's and read
        # "noisy labels, 100%", the easier split 4%.
        confirmed_by=_any("easier_split_measured", "easier_labels_measured"),
        claimed_with=BEYOND_LAG | _any("eval_val_below"),
        settle=f"{REEVALUATE}: both splits scored in eval mode and against random re-splits",
    ),
    CauseSpec(
        "preprocessing_mismatch",
        "problem",
        "Training and validation inputs are preprocessed differently",
        (
            "gap_rel",
            "gap_first_rel",
            "of_frac_after",
            "of_tau",
            "pg_progress",
            "gap_track",
            "of_val_progress",
            "ls_ratio_stable",
            "ls_log_ratio",
            "ls_train_over_val",
            "val_noise_rel",
            "pr_present",
            "pr_adv_auc",
            "pr_scale",
            "pr_mean_shift",
            "pr_feat_shifted",
            "pr_perm_z",
            "pr_eval_gap",
            "pr_eval_gap_neg",
        ),
        (
            "gap",
            "reeval_split",
        ),
        _text(
            "When validation inputs are normalized, scaled or tokenized differently, the model "
            "sees shifted inputs and validation loss stays high from the start.",
            "gap",
            "reeval_split",
        ),
        _fixed(
            "Apply exactly the same transform (fitted on the training set) to both splits; "
            "compare feature means and scales between them.",
        ),
        requires=(
            _any("val_above_train", "split_shift"),
            _any("val_above_train_early", "val_stuck", "split_shift"),
            _any("gap_material", "split_shift"),
        ),
        excludes=_any("val_below_train", "accuracies_agree") | BROKE | AT_CHANCE | NOT_A_LOSS,
        refuted_without=_any("split_shift"),
        # Inputs unlike those the model learned from hold validation back from the start: it
        # improves far less than training does. A gap that opens between curves that fell
        # together is what overfitting makes, so without a validation curve that stalled or a
        # measured shift the mismatch stays a candidate. All 11 preprocessed runs it was claimed
        # for out of family had a stalled validation curve; a textbook overfit had 0.57-0.80.
        # A measured shift is claimed only where it costs validation: inputs a classifier tells
        # apart that the model scores within 5% of training's in eval mode (a model stuck near
        # its start, or one whose features ignore the shift) leave the loss as it was. Every
        # shifted split of both suites that was preprocessed differently scored 30% or more
        # worse; 3 throwaway runs whose model scored both alike read "inputs preprocessed
        # differently, 100%", and in none did validation score 25% worse than a held-out test set.
        claimed_with=_any("val_stuck", "shift_costs_validation"),
        # Validation scoring worse in eval mode on inputs transformed unlike training's (nearly
        # every feature shifted): inputs unlike those the model was fit to, measured. Or
        # validation never scoring better than the model did before it learned, while training
        # learns: nothing learned carries over (6 of the 7 runs of both generators showing it
        # were preprocessed differently; no real log or peer record shows it). Overfitting
        # shares it where validation rose no faster than training fell: memorizing samples
        # with no signal to find makes it too (`also_produces`, `never_improved_as_memorizing`).
        # Validation answers that never change while training accuracy climbs: inputs unlike
        # any the model learned from, every one answered alike (`symptoms/predictions.py`).
        confirmed_by=_any("shifted_split_measured", "val_never_improves", "val_predictions_frozen"),
        # A model growing more confident on inputs unlike those it was fit to: validation rises
        # from its minimum while training falls, as memorization makes it, and scores worse in
        # eval mode. Of the runs of both generators showing that signature, 21 of 54 had a
        # validation set preprocessed differently, whose best checkpoint gains nothing on clean
        # data: measured, the mismatch accounts for the rise.
        also_produces=_any(
            "overfitting_signature", "val_rises_after_min", "gap_widens", "eval_val_above"
        ),
        settle=f"{REEVALUATE}: feature means and scales of both splits compared",
    ),
    CauseSpec(
        "loss_computation_mismatch",
        "problem",
        "Training and validation losses are computed differently",
        (
            "ls_log_ratio",
            "ls_ratio_stable",
            "ls_noise_ratio",
            "steps_mean_mismatch",
            "cfg_sum_reduction",
            "cfg_last_batch",
            "ls_train_over_val",
            "pr_present",
            "pr_train_logratio",
            "pr_val_logratio",
            "pr_train_time",
            "fl_negative",
        ),
        (
            "loss_scale",
            "reeval_loss",
        ),
        _text(
            "The two curves are not the same quantity: a sum instead of a mean, only the last "
            "batch reported, class weights or a scale on one side.",
            "loss_scale",
            "reeval_loss",
        ),
        _fixed(
            "Compute both losses with the same function and reduction (mean over samples), "
            "averaged over the whole epoch.",
        ),
        requires=(_any("loss_scale_mismatch") | NOT_A_LOSS,),
        # A loss that cannot be what it names, or two curves measured not to be the same
        # quantity (a scale apart from the start, a training "epoch mean" that jitters like one
        # batch, a recomputed loss a factor apart): all 70 runs and views of both suites and a
        # throwaway batch that showed the scale apart computed the loss differently.
        confirmed_by=NOT_A_LOSS | _any("loss_scale_mismatch", "train_jitters_like_one_batch"),
        # Two curves that are not the same quantity say nothing by their distance: where one
        # sits against the other is no evidence of a split that leaks, is easier, or of noisy
        # labels (four throwaway runs with a loss summed over the batch were told "validation
        # easier, 0.5-0.81").
        accounts_for=ANY_GAP | BEYOND_LAG,
        settle=f"the config keys loss_reduction and train_loss_aggregation, or {REEVALUATE}",
    ),
    CauseSpec(
        "label_noise_train",
        "problem",
        "Training labels are noisy",
        (
            "pg_rel_level",
            "pg_progress",
            "gap_rel",
            "gap_below_frac",
            "off_neg_stable",
            "acc_inverted",
            "cfg_regularized",
            "cfg_augmentation",
            "ls_ratio_stable",
            "ls_log_ratio",
            "pr_present",
            "pr_noise_train",
            "pr_noise_excess",
            "pr_eval_gap",
            "pr_perm_z",
            "pr_leak_frac",
        ),
        (
            "progress",
            "gap",
            "reeval_loss",
        ),
        _text(
            "Wrong training labels give the training loss a high floor the validation set "
            "does not share.",
            "progress",
            "gap",
            "reeval_loss",
        ),
        _fixed(
            "Look for training samples whose label the model finds far less likely than the "
            "class it predicts, or in regression misses by far (re-evaluation does this), and "
            "relabel or drop them.",
        ),
        requires=(
            VAL_BELOW_SUSTAINED
            | BEYOND_LAG
            | _any("high_plateau", "noisy_labels", "eval_val_below"),
        ),
        # Re-evaluated, the training set scoring no worse than validation in eval mode has no
        # floor its labels raise: wrong labels the model has not memorized would put it there,
        # memorized ones leave it low (of the 43 noisy-label runs of both suites and two
        # throwaway batches, 40 scored validation better in eval mode and 2 within the noise;
        # the one that scored it worse had memorized its labels). A regression with dropout
        # whose eval-mode validation scored 8% worse than training read "noisy labels, 75%" on
        # the reported gap dropout made.
        # Nor where the training accuracy a log reports keeps up with validation's, unless a
        # re-evaluation counted rejected labels: wrong labels that raise the training loss lower
        # its accuracy through the same samples (7 to 28 points in all 36 such runs of both
        # suites with accuracies logged; `ACCURACY_KEPT_UP`).
        excludes=BROKE | NOT_A_LOSS | _any("eval_val_not_below", "accuracy_shows_no_wrong_labels"),
        # The model rejects many more training labels than validation labels (on the inputs
        # before augmentation): wrong training labels, measured.
        confirmed_by=_any("noisy_labels"),
        # Re-evaluated, the model rejects no more training labels than validation's, beyond a
        # trace: wrong labels it has not memorized would be rejected, and memorized ones leave
        # a low training loss. What put validation below training was an easier split, copies,
        # training-time behaviour or the lag (throwaway runs with batch norm and dropout, or an
        # easier split, read "noisy labels, 0.56-0.91" on the eval-mode gap alone).
        refuted_without=_any("labels_rejected"),
        claimed_with=BEYOND_LAG | _any("high_plateau", "noisy_labels", "eval_val_below"),
        # A model too unsure to reject any label shows nothing of which labels are wrong: the
        # eval-mode gap it leaves is the splits' samples, which an easier validation set sets
        # apart as well (a recurrent net that learned nothing of a regression, residuals 1.04
        # of the targets' spread, read "noisy labels, 100%" on a split that put the targets
        # nearest the mean in validation). Nor one whose validation labels are measured to be
        # drawn unlike training's without the rejections that measure wrong labels (the easier
        # split's confirmation): the trace is then as much the harder samples training kept.
        # Nor one that rejects only a trace more of training's labels (under 3 points): harder
        # samples kept in training leave that much as well (`NOISY_LABEL_CLAIM`).
        unclaimed_with=_any(
            "labels_unjudged", "easier_labels_measured", "labels_rejected_only_a_trace"
        ),
        settle=f"{REEVALUATE}: training labels the model rejects",
    ),
    CauseSpec(
        "overfitting",
        "problem",
        "Overfitting",
        (
            "of_tau",
            "of_logp",
            "of_rise_rel",
            "of_frac_after",
            "of_train_falls",
            "of_gap_widen",
            "gap_rel",
            "gap_z",
            "of_val_progress",
            "pr_present",
            "pr_eval_gap",
            "pr_leak_frac",
        ),
        (
            "overfit",
            "gap",
        ),
        _text(
            "The model memorizes the training set: training loss keeps falling while "
            "validation loss rises after its minimum.",
            "overfit",
        ),
        lambda c, f: (
            f"Stop at {_best_epoch(c)}, where validation loss was lowest (early "
            "stopping on validation loss).",
            "Add regularization (dropout, weight decay, augmentation) or more data.",
        ),
        # A generalization gap measured in eval mode says how far validation is from training,
        # not that training went past the best point: that takes a rise or a widening gap.
        requires=(
            _any("val_above_train", "eval_val_above", "val_rises_after_min"),
            _any("val_rises_after_min", "gap_widens"),
        ),
        # A model whose validation never improved and rose faster than memorizing makes it
        # scores validation's inputs wrong with a confidence memorizing does not give: they are
        # unlike training's (symptoms/__init__.py), and no checkpoint of it is worth stopping
        # at, since stopping early gives back an untrained model. A training loss that ended
        # where it began (at its lowest within 5% of its first epoch) fitted nothing to fit
        # past what generalizes: none of the 44 runs of both generators and two throwaway
        # batches with it was overfit, and a batch-norm net that sat at chance while
        # validation drifted 7% up read "overfitting, 90%". Validation answers that never change
        # while training accuracy climbs are not a model fitting past what generalizes, which
        # moves them (`symptoms/predictions.py`): a table whose validation accuracy held at 0.37
        # for 73 evaluations while its loss rose 5 times training's fall read "overfitting,
        # 100%" on inputs shifted unlike training's.
        excludes=BROKE
        | AT_CHANCE
        | NOT_A_LOSS
        | _any("fit_then_never_improved", "train_stuck", "val_predictions_frozen"),
        confirmed_by=_any("overfitting_signature"),
        # One whose validation rose no faster than training fell may be memorizing samples it
        # finds no signal in: a three-bit parity an MLP memorized from its first epoch
        # (validation 0.70 to 0.92, training 0.69 to 0.49) read "inputs preprocessed
        # differently, 90%", and so did a residual net that fit 200 noisy images of corners
        # to zero loss, validation at chance throughout (rising 1.2 times training's fall);
        # the untrained start of both scored the held-back test set better. Every run
        # preprocessed differently that showed it rose 1.8 times training's fall or more.
        also_produces=_any("val_never_improves"),
        # Claimed only where validation rose materially after its minimum, clear of its noise
        # or not: a widening gap whose rise is a few thousandths against where validation began
        # (a residual CNN at 0.023 to 0.026, having started at 0.78) is one no best checkpoint
        # gives back, and it read "overfitting, 0.83" on a throwaway run the best checkpoint did
        # not help; every claim on the suites' runs had the material rise.
        claimed_with=_any("val_rises_after_min", "val_rise_material"),
        # A rise that outpaces a training loss holding nearly level is no memorizing (causes.md:
        # training keeps falling while validation rises): overshooting steps or shifted inputs
        # make it. In the first generator's runs it is rates too high (8 of 8 such runs, 3 of
        # them labelled overfit too, one claimed at 0.59); three preprocessed throwaway runs
        # read "overfitting, 74-96%" on it.
        unclaimed_with=_any("val_rise_outpaces_memorizing"),
        settle="more epochs past the validation minimum, or the best checkpoint on a test set",
    ),
    CauseSpec(
        "underfitting",
        "problem",
        "Underfitting",
        (
            "pg_progress",
            "pg_rel_level",
            "pg_gap_small",
            "pg_improve_ratio",
            "cfg_frozen",
            "cfg_dropout",
            "cv_train_slope",
            "pg_linear",
            "gap_rel",
        ),
        ("progress",),
        _text(
            "The model cannot fit even the training set: both losses stay high and close.",
            "progress",
        ),
        _fixed(
            "Increase capacity, reduce regularization, unfreeze layers, or check that inputs "
            "and labels line up.",
        ),
        requires=(NOT_FITTING,),
        # A plateau that declared dropout or augmentation holds the training loss on is theirs
        # (`accounts_for`); a loss at chance or one that never moved is not. Held there after
        # under 150 steps, it may only lack steps: 15 throwaway runs claimed on it so were none
        # of them helped by a model four times as wide; all 18 suite claims took 150 or more.
        claimed_with=NOT_FITTING_AFTER_STEPS,
        # Steps ten times the usual size or more hold a loss on a plateau of their own: there
        # the plateau says nothing of the model's size. Of the 6 runs of both suites and two
        # throwaway batches on a high plateau at such a rate, all 6 had a rate too high and 1
        # was underfit too; an RMSprop run at 28 times the usual rate read "underfitting, 60%".
        # Nor does a model that never left chance, where nothing declared holds a model of any
        # size there and no count shows it short of parameters: a model too small fits part of
        # a task it can learn. Every suite run underfit at chance declared frozen layers or a
        # heavy weight decay; of the 44 runs of both suites and three throwaway batches at
        # chance with nothing declared, 2 were underfit (units one or two wide), and a GRU and an
        # LSTM on palindromes and a transformer on signals read "underfitting, 53-78%" where a
        # model four times as wide learned nothing either.
        unclaimed_with=_any("lr_above_usual", "at_chance_of_any_size", "unmoved_of_any_size"),
        # A training loss that got low and climbed back was fitted: the steps overshoot. One
        # that went NaN broke: where it stood before says nothing of the model's capacity. A
        # validation loss climbing materially back from its minimum is a model fitting its
        # training set past what generalizes, which one too small to fit it has no room for
        # (1 of the 31 underfit runs of both generators shows it, a preprocessing plant).
        excludes=EXPLODED
        | NOT_A_LOSS
        | BLEW_UP
        | WORSENED
        | _any("train_climbs_back", "val_rises_after_min"),
        # A model counted with a parameter per training sample or more has room to fit them
        # (symptoms/capacity.py): what holds its training loss is not its size.
        refuted_without=_any("capacity_short"),
        # Ending at chance at a usual learning rate with under a parameter per training sample:
        # the steps could move a model that is too small to fit.
        confirmed_by=_any("at_chance_with_few_parameters"),
        settle="the config key num_classes, or a larger model trained on the same data",
    ),
    CauseSpec(
        "lr_too_high",
        "problem",
        "Learning rate too high",
        (
            "st_sign_changes",
            "st_rough",
            "st_spikes",
            "st_drift_up",
            "st_steps_rough",
            "pg_progress",
            "nf_jump",
            "val_noise_rel",
            "of_train_falls",
            "pg_rel_level",
            "st_val_sign_changes",
            "st_val_rough",
            "fl_exploded",
            "fl_collapsed",
            "cfg_lr_log",
        ),
        ("stability",),
        _text("Steps overshoot: the loss oscillates, spikes or climbs.", "stability"),
        _fixed(
            "Lower the learning rate (try 3-10x smaller), add warm-up, or clip gradients.",
        ),
        # Steps far too long need not show in epoch means: the loss can settle smoothly on a
        # floor above the one a usual rate reaches (an AdamW run at 75x its usual rate
        # flattening at half of chance), so the rate alone makes it a candidate.
        requires=(_any(*OVERSHOOTING, "lr_far_above_usual"),),
        # A tenth of the rate cannot help a run that never left its start where steps a tenth
        # as long could not move the weights, unless it ended worse than where it began.
        excludes=NOT_A_LOSS | _any("lower_rate_cannot_help"),
        # Overshooting at a rate thirty times the usual one: that rate is the first suspect. A
        # training loss that got low and climbed back well above that is the overshoot itself
        # (or, where the loss also blew up, numerical trouble: `also_produces`).
        confirmed_by=_any("overshoots_at_a_far_higher_rate", "train_climbs_back"),
        # Claimed only where the curves show steps overshooting: the rate alone is a candidate.
        # Every suite run at thirty times the usual rate or more is a plant its rerun confirmed
        # (the rate predicts it perfectly there); of 77 throwaway runs of random recipes at 18
        # to 100 times the usual rate, a tenth of the rate helped 14, and of the 18 whose curves
        # showed no overshoot, 3 (the models claimed 7). A classifier at chance since its first
        # epoch shows none (no suite run with the rate too high sits there without another
        # sign; 12 throwaway runs on a task no model learned read it at 0.3-0.9). Nor does
        # validation that only jitters at such a rate: 2 suite plants show nothing else, but of
        # 19 such runs of three throwaway batches a tenth of the rate helped 4, and 9 of 10 in
        # the last were claimed at 0.6-0.88 (batch norm on batches of 16, dropout, augmentation
        # and noisy labels jitter validation at any rate). Nor do swings and jumps that a run
        # ended below, its rate not held constant (`overshoot_lasts`): 11 throwaway runs in
        # three batches (warm-up, one-cycle, step and cosine schedules) read 0.51-0.93, and a
        # tenth of the rate helped 4.
        claimed_with=_any(*OVERSHOT),
        # A rate thirty times the usual one accounts for a loss held high or at chance, whether
        # or not the models claim it: steps that long settle it on a higher floor, or kill the
        # units that would fit, so that plateau is no evidence of a model too small to fit
        # (three throwaway runs at chance at 30-55 times the usual rate read "underfitting, 0.5 to
        # 0.97" once the rate was no longer claimed; no model of theirs learned the task).
        declared_by=_any("lr_far_above_usual"),
        accounts_for=NOT_FITTING | NOT_FITTING_AFTER_STEPS,
        declaration_suffices=True,
        settle="a short rerun at a third of the learning rate",
    ),
    CauseSpec(
        "lr_too_low",
        "problem",
        "Learning rate too low",
        (
            "pg_linear",
            "pg_improve_ratio",
            "pg_progress",
            "cv_train_slope",
            "cv_train_logp",
            "pg_rel_level",
            "cfg_lr_log",
        ),
        (
            "progress",
            "convergence",
        ),
        _text(
            "Steps are too small: the loss creeps down almost linearly, far from converged.",
            "progress",
        ),
        _fixed(
            "Raise the learning rate (try 3-10x larger) or use a schedule with warm-up.",
        ),
        requires=(
            _any(
                "high_plateau",
                "train_still_improving",
                "at_chance",
                "stalled_at_chance",
                "train_stuck",
                # Or the small steps themselves, counted from the config: a curve that
                # flattened as any run does at a 22nd of the usual rate listed no rate at all.
                "tiny_steps_below_the_usual_rate",
            ),
        ),
        # Steps too small do not make a loss go NaN or infinite, nor rise from where it began:
        # steps too long or a numerical bug do (no run of either generator with non-finite
        # losses had a rate too low). Nor are steps at ten times the usual rate too small.
        excludes=BROKE | NOT_A_LOSS | BLEW_UP | WORSENED | _any("lr_above_usual"),
        # Learning slowly or not at all at a rate a thousand times below the usual one: ten
        # times faster is certainly within reach. Sitting at chance for a fifth of the run
        # before learning: the steps were too small to leave the start (checks/progress.py),
        # unless the config says they took a rate at or above the usual one from the first (no
        # warm-up): then the start was a plateau of the loss, which larger steps need not
        # shorten (a GRU and a residual net at three times AdamW's usual rate under a cosine
        # schedule, not helped by ten times it; every stall that was, in both generators and
        # the batches, started one-cycle's warm-up at a twenty-fifth of its rate), nor where
        # the model left chance while a warm-up the config states still climbed: a rate below
        # the configured one sufficed (`left_chance_while_warming_up`); nor where it sat at
        # chance past the climb, at the full rate too (`stalled_past_the_warm_up`: ten times the
        # rate helped 10 of 16 such runs of the second generator and four throwaway batches),
        # which the models weigh.
        # Stuck after steps that could not move a weight by a tenth, at a rate below the usual
        # one: the same, counted (at a usual rate, a short run: a candidate the models weigh).
        confirmed_by=_any(
            "lr_far_below_usual",
            "stalled_on_small_first_steps",
            "creeps_at_a_low_rate",
            "stuck_on_a_tiny_step_budget_below_the_usual_rate",
        ),
        # Claimed only where the history shows the small steps: a training loss creeping at a pace
        # it has kept (at a rate below the usual one or not stated: at a usual one the pace is the
        # task's as often as not), one that never left its start, or both curves still falling when
        # the run ended (ten times the rate would have got further in the same epochs: true of 41 of
        # the 47 unfinished runs of both generators). A cosine schedule's plateau ten times the rate
        # would have lowered (the counterfactual labels find many) looks like any converged run, and
        # so does a three-epoch MNIST run whose validation has settled. A loss that never left its
        # start after under 150 steps may need more steps at any rate: ten times the rate helped 6
        # of 26 such throwaway runs claimed on it. Nor does a loss stuck after enough steps at a
        # usual rate, which moved the weights: a transformer on 35% flipped labels whose validation
        # improved 10% while training stayed within 5% read "learning rate too low, 100%". A loss
        # stuck where steps could not move a weight by a tenth may be claimed at any rate, on the
        # models' word at a usual one. A stall at chance is claimed on only where the first steps
        # may have been small: at a rate taken in full from the first step it is a plateau of the
        # loss, which ten times the rate did not shorten in any of the 3 throwaway runs that showed
        # it (an LSTM at a constant rate read "learning rate too low, 74%" on the stall alone).
        # Past a warm-up's climb, the first steps were small: the models' word, not a candidate's.
        claimed_with=_any(
            "creeps_not_at_a_usual_rate",
            "still_improving",
            "stuck_not_at_a_usual_rate",
            "at_chance_not_at_a_usual_rate",
            "stalled_on_small_first_steps",
            "stalled_past_the_warm_up",
            "lr_far_below_usual",
            "stuck_on_a_tiny_step_budget",
        ),
        settle="a short rerun at three times the learning rate",
    ),
    CauseSpec(
        "not_converged",
        "problem",
        "Training stopped before convergence",
        (
            "cv_train_slope",
            "cv_val_slope",
            "cv_train_logp",
            "cv_val_logp",
            "cv_both",
            "cv_val_material",
            "of_frac_after",
            "pg_improve_ratio",
        ),
        ("convergence",),
        _text("Both curves were still clearly improving when training stopped.", "convergence"),
        _fixed(
            "Train for more epochs (resume from the last checkpoint).",
        ),
        requires=(_any("still_improving"),),
        # Training on where the loss went NaN or infinite gives more of it: the instability is
        # what to fix (no run of either generator with non-finite losses was unfinished).
        excludes=BROKE | NOT_A_LOSS | BLEW_UP,
        # Validation still falling by twice what "train longer" must gain to count: by the
        # counterfactual's own measure, continuing pays.
        confirmed_by=_any("val_falls_past_the_floor"),
        settle="more epochs from the last checkpoint",
    ),
    CauseSpec(
        "premature_early_stopping",
        "problem",
        "Early stopping fired too soon",
        (
            "es_tail_short",
            "es_bump_small",
            "es_pre_slope",
            "es_best_late",
            "cfg_small_patience",
            "cv_val_slope",
        ),
        ("early_stop",),
        _text(
            "Early stopping reacted to a small bump in a validation curve that was still falling.",
            "early_stop",
        ),
        _fixed(
            "Raise the early-stopping patience or require a minimum improvement (min_delta) "
            "averaged over a few epochs.",
        ),
        requires=(_any("ended_after_bump", "cut_short_by_patience"),),
        # A classifier at chance that early stopping did not cut short was stopped on a model
        # that had not learned; one cut short, on a few evaluations within the plan's first
        # fifth, had no time to (symptoms/config.py).
        excludes=BROKE | NOT_A_LOSS | _any("ran_as_planned", "at_chance_not_cut_short"),
        confirmed_by=_any("stopped_on_noise", "cut_short_by_patience"),
        # A stop in the last fifth of the plan took little: a candidate, not a claim.
        claimed_with=_any("stopped_with_the_plan_ahead", "cut_short_by_patience"),
        settle="the config keys epochs and early_stopping_patience, or a rerun with more patience",
    ),
    CauseSpec(
        "numerical_instability",
        "problem",
        "Numerical instability",
        (
            "nf_any",
            "nf_frac",
            "nf_jump",
            "st_spikes",
            "fl_exploded",
        ),
        ("nonfinite",),
        _text("NaN, infinite or exploding loss values.", "nonfinite"),
        _fixed(
            "Lower the learning rate, clip gradients, check for log(0) or division by zero in "
            "the loss, and use loss scaling with mixed precision.",
        ),
        requires=(_any("nonfinite", "loss_exploded"),),
        confirmed_by=_any("nan_loss", "loss_exploded"),
        # A loss that jumped by orders of magnitude and came back, finite throughout, is what
        # overshooting steps do (RMSprop's first steps at a high rate): no run of either suite
        # jumped without going NaN or exploding, and the 3 throwaway runs that did (a spike of
        # 400x in the first batches, then a plateau) read "numerical instability, 100%" with
        # none of them labelled so. Such a jump keeps it a candidate.
        claimed_with=_any("nan_loss", "loss_exploded"),
        also_produces=_any("train_climbs_back"),
        excludes=NOT_A_LOSS,
        settle="per-step losses around the first non-finite value",
    ),
)

BY_ID = {cause.id: cause for cause in CAUSES}

# What a training curve alone can show, for runs logged without validation (many scripts are):
# the others compare the two curves. `bench/fit_model.py` fits a training-only model for these.
TRAINING_CURVE_CAUSES = (
    "numerical_instability",
    "lr_too_high",
    "lr_too_low",
    "underfitting",
    "not_converged",
)
