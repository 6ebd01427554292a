"""The numbers of a probe report the checks read, as one frozen record.

The report is the typed `ProbeReport` every producer builds; this module turns its optional
parts into the plain numbers the checks use (a non-finite value reads as absent), so the checks
stay short.
"""

import math
from dataclasses import dataclass

from lossgap_client.probe_report import Interval, LossSummary, ProbeReport
from scipy import stats

from app.analysis.finding import Finding, skipped

REEVALUATE_HOW = (
    "`lossgap reevaluate RUN --model model.pt --data data.npz`, or POST /v1/runs/{id}/artifacts "
    "then /reevaluations"
)
NO_PROBE = f"needs a re-evaluation with the model and data ({REEVALUATE_HOW})"
DROPOUT_INACTIVE = 1e-3  # train mode changes the loss by under this share of it: no dropout
# The splits' labels (class counts, chi-square) or targets (Kolmogorov-Smirnov) differ at this
# p-value or under: drawn from different distributions, not by the luck of a random split.
LABEL_SHIFT_P = 1e-3
# Training's excess of rejected labels over validation's is wrong labels only where drawing the
# samples does not leave as much: a model rejects some of any split's labels (its own mistakes),
# and 60 validation samples at a third rejected draw their share within +-6 points. One-sided
# mid-p (Fisher's exact test is conservative at the counts of a small validation set) under
# this; a re-evaluated early-stopped image net at 0.98 of chance rejected 40% of training's
# labels and 33% of validation's 60 (mid-p 0.14), and read "noisy labels, 90%" on clean labels.
REJECTIONS_P = 0.05


def not_reevaluated(check: str, features: tuple[str, ...], why: str = NO_PROBE) -> Finding:
    """The Finding of a re-evaluation check on a run without a probe report: skipped, its
    features zero (the cause model reads absent evidence as 0)."""
    return skipped(check, why, dict.fromkeys(features, 0.0))


@dataclass(frozen=True)
class Probe:
    n_train: int
    n_val: int
    train_eval: float
    train_eval_se: float
    val_eval: float
    val_eval_se: float
    train_train_mode: float | None
    val_train_mode: float | None
    dropout_only: float | None
    batchnorm_only: float | None
    has_dropout: bool
    has_batchnorm: bool
    label_smoothing: float
    reported_train: float | None
    train_time: tuple[float, float, float] | None  # value, ci_low, ci_high
    # Training minus validation loss in eval mode, on the training inputs before augmentation
    # when the probe measured it: whether the splits differ, not what augmentation adds.
    eval_gap: tuple[float, float, float]
    augmentation: tuple[float, float, float] | None
    perm_z: float | None
    perm_p: float | None
    leaked_fraction: float | None
    exact_duplicates: int
    near_duplicates: int
    leaked_val_loss: float | None
    clean_val_loss: float | None
    leak_p: float | None
    chance_copies: float | None  # share of training samples with a copy in the rest of training
    chance_sample: int | None  # ... among this many drawn
    adversarial_auc: float | None
    label_p: float | None
    features_tested: int
    features_shifted: int
    max_mean_shift: float
    median_log_scale: float
    train_log_ratio: float | None
    val_log_ratio: float | None
    train_recompute_diff: float | None  # reported minus recomputed training loss
    val_recompute_diff: float | None
    noise_train: float | None  # share of training labels the model rejects...
    noise_val: float | None  # ...and of validation labels
    noise_measure: str | None  # how (LabelNoise.measure): rejected_label, gross_residual, ...
    # a regression's validation residuals over its targets' spread (LabelNoise.residual_share)
    noise_residual_share: float | None
    parameters: int | None = None  # the model's trainable ones, as the probe counted them
    subsampled: bool = False  # n_train and n_val count a sample of the splits the data held
    classifies: bool = False  # a classifier, whose loss at chance is...
    chance_loss: float | None = None  # ... ln of its classes (None where they are unknown)

    @property
    def train_eval_raw(self) -> float:
        """The training set in eval mode on its inputs before augmentation (as measured when
        the probe had them; else what training saw)."""
        return self.train_eval - (self.augmentation[0] if self.augmentation else 0.0)

    @property
    def shifted_share(self) -> float:
        """The share of the tested input features that shift between the splits."""
        return self.features_shifted / self.features_tested if self.features_tested else 0.0

    @property
    def predicts(self) -> bool:
        """Whether the model scores validation in eval mode better than predicting nothing: a
        classifier under chance's loss (where its classes are known), a regression whose
        residuals are narrower than its targets' spread around training's mean. The labels a
        model that predicts nothing "rejects" are its own errors: a batch-norm net scoring 14
        times chance in eval mode rejected 55% of its training labels and 45% of validation's,
        and read "noisy labels, 90%" on an overfit."""
        share = self.chance_share
        return share is None or share < 1.0

    @property
    def chance_share(self) -> float | None:
        """The model's eval-mode validation error as a share of predicting nothing's: a
        classifier's loss against chance's, a regression's residuals against its targets' spread
        around training's mean (None where that is unknown). At 1 or above it learned nothing."""
        if self.classifies:
            return None if self.chance_loss is None else self.val_eval / self.chance_loss
        return self.noise_residual_share

    @property
    def dropout_active(self) -> bool:
        """Dropout modules that change the loss when switched on: a model built with p=0, or
        one whose dropout the probe could not switch, has them and no dropout. With batch norm
        too, the pass with dropout alone switched on tells them apart."""
        if not self.has_dropout:
            return False
        train_mode = self.dropout_only if self.dropout_only is not None else self.train_train_mode
        if train_mode is None:
            return True
        return abs(train_mode - self.train_eval) > DROPOUT_INACTIVE * self.scale

    @property
    def scale(self) -> float:
        """A typical per-sample loss of this model on this data, to express effects relatively."""
        return max((self.train_eval + self.val_eval) / 2, 1e-3)

    @property
    def rejected_excess(self) -> float:
        """The share of training labels the model rejects beyond the share of validation's."""
        return (self.noise_train or 0.0) - (self.noise_val or 0.0)

    def rejections_clear(self) -> bool:
        """Whether training's excess of rejected labels, if any, is more than drawing the
        samples leaves (`REJECTIONS_P`); read as clear where the counts are unknown."""
        if self.rejected_excess <= 0 or self.noise_train is None or self.noise_val is None:
            return True
        if not self.n_train or not self.n_val:
            return True
        rejected_train = round(self.noise_train * self.n_train)
        rejected = rejected_train + round(self.noise_val * self.n_val)
        draw = stats.hypergeom(self.n_train + self.n_val, rejected, self.n_train)
        mid_p = float(draw.sf(rejected_train) + 0.5 * draw.pmf(rejected_train))
        return mid_p < REJECTIONS_P

    def copies_beyond_chance(self) -> tuple[float, float | None]:
        """The share of validation samples with a copy in training beyond the share of training
        samples with one in the rest of training (copies by chance in this data, which an
        independent test set would hold as well), and the one-sided p-value (Fisher's exact
        test) of validation having more; the plain share, and no p-value, when chance was not
        measured."""
        leaked = self.leaked_fraction or 0.0
        if self.chance_copies is None or not self.chance_sample or not self.n_val:
            return leaked, None
        chance = round(self.chance_copies * self.chance_sample)
        copies = min(self.near_duplicates, self.n_val)  # reports are validated; stored ones too
        table = [
            [copies, self.n_val - copies],
            [chance, self.chance_sample - chance],
        ]
        p_value = float(stats.fisher_exact(table, alternative="greater").pvalue)
        return leaked - self.chance_copies, p_value


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _mean(summary: LossSummary | None) -> float | None:
    return _finite(summary.mean) if summary is not None else None


def _interval(interval: Interval | None) -> tuple[float, float, float] | None:
    if interval is None:
        return None
    parts = (_finite(interval.value), _finite(interval.ci_low), _finite(interval.ci_high))
    if parts[0] is None or parts[1] is None or parts[2] is None:
        return None
    return parts[0], parts[1], parts[2]


def _before_augmentation(
    gap: tuple[float, float, float], augmentation: tuple[float, float, float] | None
) -> tuple[float, float, float]:
    """The eval-mode gap with what augmentation adds to the training loss taken out (the
    probe scores one augmented draw, as training saw it, and the raw inputs beside it)."""
    if augmentation is None:
        return gap
    added = augmentation[0]
    return gap[0] - added, gap[1] - added, gap[2] - added


def _difference(reported: float | None, recomputed: float | None) -> float | None:
    if reported is None or recomputed is None:
        return None
    return _finite(reported - recomputed)


def read(report: ProbeReport | None) -> Probe | None:
    """The probe's numbers, or None when there is no usable report."""
    if report is None:
        return None
    passes, parts = report.passes, report.decomposition
    train_eval, val_eval = _mean(passes.train_eval), _mean(passes.val_eval)
    eval_gap = _interval(parts.eval_gap)
    augmentation = _interval(parts.augmentation_effect)
    if train_eval is None or val_eval is None or eval_gap is None:
        return None
    leak, shift = report.leakage, report.split_shift
    if augmentation is not None and shift is not None and not shift.raw_inputs:
        # Compared on an augmented draw: the shift measured is the augmentation's, so the
        # splits were not compared (reports from probes before they compared raw inputs).
        shift = None
    recompute, noise, split = report.loss_recompute, report.label_noise, report.shuffled_split
    if augmentation is not None:
        # Judged on an augmented draw (reports from probes before they used the raw inputs):
        # masked or noised inputs make a model confidently wrong about samples whose labels
        # are right, and score worse than validation by the augmentation itself.
        noise = noise if noise is not None and noise.raw_inputs else None
        split = split if split is not None and split.raw_inputs else None
    return Probe(
        n_train=report.n_train,
        n_val=report.n_val,
        train_eval=train_eval,
        train_eval_se=_finite(passes.train_eval.se) or 0.0,
        val_eval=val_eval,
        val_eval_se=_finite(passes.val_eval.se) or 0.0,
        train_train_mode=_mean(passes.train_train_mode),
        val_train_mode=_mean(passes.val_train_mode),
        dropout_only=_mean(passes.train_dropout_only),
        batchnorm_only=_mean(passes.train_batchnorm_only),
        has_dropout=report.model.has_dropout,
        has_batchnorm=report.model.has_batchnorm,
        label_smoothing=report.label_smoothing,
        reported_train=_finite(parts.reported_train),
        train_time=_interval(parts.train_time_effect),
        eval_gap=_before_augmentation(eval_gap, augmentation),
        augmentation=augmentation,
        perm_z=_finite(split.z) if split else None,
        perm_p=_finite(split.p_value) if split else None,
        leaked_fraction=_finite(leak.leaked_fraction) if leak else None,
        exact_duplicates=leak.exact_duplicates if leak else 0,
        near_duplicates=leak.near_duplicates if leak else 0,
        leaked_val_loss=_finite(leak.leaked_val_loss) if leak else None,
        clean_val_loss=_finite(leak.clean_val_loss) if leak else None,
        leak_p=_finite(leak.p_value) if leak else None,
        chance_copies=_finite(leak.chance_fraction) if leak else None,
        chance_sample=leak.chance_sample if leak else None,
        adversarial_auc=_finite(shift.adversarial_auc) if shift else None,
        label_p=_finite(shift.label_p_value) if shift else None,
        features_tested=shift.features_tested if shift else 0,
        features_shifted=shift.features_shifted if shift else 0,
        max_mean_shift=_finite(shift.max_abs_mean_shift) or 0.0 if shift else 0.0,
        median_log_scale=_finite(shift.median_abs_log_scale_ratio) or 0.0 if shift else 0.0,
        train_log_ratio=_finite(recompute.train_log_ratio) if recompute else None,
        val_log_ratio=_finite(recompute.val_log_ratio) if recompute else None,
        train_recompute_diff=_difference(recompute.train_reported, recompute.train_recomputed)
        if recompute
        else None,
        val_recompute_diff=_difference(recompute.val_reported, recompute.val_recomputed)
        if recompute
        else None,
        noise_train=_finite(noise.train_confident_wrong) if noise else None,
        noise_val=_finite(noise.val_confident_wrong) if noise else None,
        noise_measure=noise.measure if noise else None,
        noise_residual_share=_finite(noise.residual_share) if noise else None,
        parameters=report.model.parameters,
        # Reports made before the field kept the flag among their extras.
        subsampled=report.subsampled or report.extra.get("subsampled") is True,
        classifies=report.task == "classification",
        chance_loss=_chance_loss(report),
    )


def _chance_loss(report: ProbeReport) -> float | None:
    """A classifier's cross entropy at chance: ln of its classes (one output is a binary
    classifier's logit); None for other tasks or where the output width is unknown."""
    outputs = report.model.outputs
    if report.task != "classification" or outputs is None:
        return None
    return math.log(max(outputs, 2))
