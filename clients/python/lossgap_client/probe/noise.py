"""Training labels the model rejects, against validation's (re-evaluation item 9).

Wrong labels in training leave a minority of training samples the model cannot agree with while
the rest fit as well as validation does; clean labels leave no such minority, or the same one in
both splits. So both splits are measured alike and the analysis reads the excess in training.

- Classification: samples the model confidently assigns to another class than their label.
- Regression: samples whose residual lies beyond `GROSS_RESIDUAL_SCALES` robust scales of the
  residuals (a Gaussian puts 0.3% there). The scale is the larger of the two splits' (the median
  absolute residual over its Gaussian value): a wrong target inflates training's residuals as a
  minority far out, while a split that is merely harder or easier moves its whole distribution,
  which the shared scale does not count as gross.
"""

from typing import Any, Literal

import numpy as np

from lossgap_client.probe.passes import PassResult
from lossgap_client.probe_report import GROSS_RESIDUAL_SCALES

CONFIDENTLY_WRONG = 0.1  # the model gives the recorded label at most this probability...
CONFIDENT = 0.5  # ...and another class at least this one
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


def _confidently_wrong(result: PassResult, labels: np.ndarray) -> np.ndarray:
    assert result.pred is not None and result.p_pred is not None and result.p_label is not None
    wrong = (result.pred != labels) & (result.p_pred >= CONFIDENT)
    return np.asarray(wrong & (result.p_label <= CONFIDENTLY_WRONG), dtype=bool)


def _scale(residuals: np.ndarray) -> float:
    finite = residuals[np.isfinite(residuals)]
    return float(np.median(finite)) / MEDIAN_ABS_NORMAL if len(finite) else 0.0


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
    inputs make a model confidently wrong about samples whose labels are right."""
    kind: Literal["confident_wrong", "gross_residual"]
    if classification:
        kind = "confident_wrong"
        wrong_train, wrong_val = _confidently_wrong(train, y_train), _confidently_wrong(val, y_val)
        assert train.p_label is not None
        badness = -train.p_label
    else:
        kind = "gross_residual"
        residual_train = _residual(loss, train.losses)
        wrong_train, wrong_val = _gross(residual_train, _residual(loss, val.losses))
        badness = np.nan_to_num(residual_train, nan=np.inf)
    suspects = np.flatnonzero(wrong_train)
    suspects = suspects[np.argsort(-badness[suspects], kind="stable")][:EXAMPLES]
    return dict(
        measure=kind,
        train_confident_wrong=float(wrong_train.mean()) if len(wrong_train) else 0.0,
        val_confident_wrong=float(wrong_val.mean()) if len(wrong_val) else 0.0,
        examples=[int(i) for i in suspects],
        raw_inputs=raw,
    )
