"""Training labels the model rejects, against validation's (re-evaluation item 9).

Wrong labels in training leave a minority of training samples the model cannot agree with while
the rest fit as well as validation does; clean labels leave no such minority, or the same one in
both splits. So both splits are measured alike and the analysis reads the excess in training.

- Classification: samples whose label the model finds at most a third as likely as the class it
  predicts. A model trained on a share e of labels flipped among K classes learns to give a
  flipped label about e/K and the true class about 1 - e + e/K (a third or less of it for any K
  and e up to a half), while a hard sample whose label is right sits near the boundary, its
  label about as likely as the class predicted. A harder training split has more such samples,
  not more rejected ones: on the suite's easier-validation runs training rejected at most 2.2
  points more than validation, on its label-noise runs 6 to 25 points more. (Reports before
  this counted only confident rejections, label at most 0.1 and another class at least 0.5,
  which a calibrated model trained on heavy noise in few classes never makes.)
- Regression: samples whose residual lies beyond `GROSS_RESIDUAL_SCALES` robust scales of the
  residuals (a Gaussian puts 0.3% there). The scale is the larger of the two splits' (the median
  absolute residual over its Gaussian value): a wrong target inflates training's residuals as a
  minority far out, while a split that is merely harder or easier moves its whole distribution,
  which the shared scale does not count as gross. A model that misses validation by nearly as
  much as the targets spread around training's mean (`residual_share`) has residuals as wide as
  the wrong targets' errors, so none of them stands out: the count is then no measurement.
"""

from typing import Any, Literal

import numpy as np

from lossgap_client.probe.passes import PassResult
from lossgap_client.probe_report import GROSS_RESIDUAL_SCALES, REJECTED_SHARE

MEDIAN_ABS_NORMAL = 0.6744897501960817  # median of |z| for a standard normal z
EXAMPLES = 20
# How a per-sample regression loss maps back to the residual's size (losses averaged over a
# sample's outputs map back to a typical residual). Huber and smooth L1 at their default 1.0.
ROBUST_QUADRATIC_END = 0.5  # the loss where Huber/smooth L1 turn from quadratic to linear


def _residual(loss: str, losses: np.ndarray) -> np.ndarray:
    values = np.maximum(np.asarray(losses, dtype=np.float64), 0.0)
    if loss == "mse":
        values = np.sqrt(values)
    elif loss in ("huber", "smooth_l1"):
        quadratic = values < ROBUST_QUADRATIC_END
        values = np.where(quadratic, np.sqrt(2 * values), values + ROBUST_QUADRATIC_END)
    return values


def _rejected(result: PassResult, labels: np.ndarray) -> np.ndarray:
    assert result.pred is not None and result.p_pred is not None and result.p_label is not None
    wrong = result.pred != labels
    return np.asarray(wrong & (result.p_label <= REJECTED_SHARE * result.p_pred), dtype=bool)


def _scale(residuals: np.ndarray) -> float:
    finite = residuals[np.isfinite(residuals)]
    return float(np.median(finite)) / MEDIAN_ABS_NORMAL if len(finite) else 0.0


def _residual_share(
    loss: str, residual_val: np.ndarray, y_train: np.ndarray, y_val: np.ndarray
) -> float | None:
    """The scale of validation's residuals over that of its targets around the training targets'
    mean, the residuals of a model that learned nothing; None where the targets do not vary."""
    targets_val = np.asarray(y_val, dtype=np.float64).reshape(len(y_val), -1)
    mean = np.asarray(y_train, dtype=np.float64).reshape(len(y_train), -1).mean(axis=0)
    spread = targets_val - mean
    baseline = (
        np.sqrt(np.mean(spread**2, axis=1)) if loss == "mse" else np.mean(np.abs(spread), axis=1)
    )
    reference = _scale(baseline)
    if not (reference > 0 and np.isfinite(reference)):
        return None
    share = _scale(residual_val) / reference
    return float(share) if np.isfinite(share) else None


def _gross(train: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    limit = GROSS_RESIDUAL_SCALES * max(_scale(train), _scale(val))
    if limit <= 0:
        return np.zeros(len(train), dtype=bool), np.zeros(len(val), dtype=bool)
    # A non-finite residual is a sample the model cannot score at all: gross too.
    return ~(train <= limit), ~(val <= limit)


def measure(
    train: PassResult,
    val: PassResult,
    y_train: np.ndarray,
    y_val: np.ndarray,
    loss: str,
    classification: bool,
    raw: bool,
) -> dict[str, Any]:
    """The share of each split the model rejects, and the training samples it rejects most.
    On the training inputs before augmentation when they were given (`raw`): masked or noised
    inputs make a model reject samples whose labels are right."""
    kind: Literal["rejected_label", "gross_residual"]
    share = None
    if classification:
        kind = "rejected_label"
        wrong_train, wrong_val = _rejected(train, y_train), _rejected(val, y_val)
        assert train.p_label is not None
        badness = -train.p_label
    else:
        kind = "gross_residual"
        residual_train, residual_val = _residual(loss, train.losses), _residual(loss, val.losses)
        wrong_train, wrong_val = _gross(residual_train, residual_val)
        share = _residual_share(loss, residual_val, y_train, y_val)
        badness = np.nan_to_num(residual_train, nan=np.inf)
    suspects = np.flatnonzero(wrong_train)
    suspects = suspects[np.argsort(-badness[suspects], kind="stable")][:EXAMPLES]
    return dict(
        measure=kind,
        train_confident_wrong=float(wrong_train.mean()) if len(wrong_train) else 0.0,
        val_confident_wrong=float(wrong_val.mean()) if len(wrong_val) else 0.0,
        examples=[int(i) for i in suspects],
        raw_inputs=raw,
        residual_share=share,
    )
