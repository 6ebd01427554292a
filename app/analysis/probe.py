"""The numbers of a probe report the checks read, as one frozen record.

A report arrives as a mapping (validated by the API's schema, or read from a scenario file); this
module is the only place that knows its field names, so the checks stay short.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.analysis.finding import Finding, skipped

NO_PROBE = "needs a re-evaluation: upload the model and data (POST /v1/runs/{id}/artifacts)"


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
    adversarial_auc: float | None
    label_p: float | None
    features_tested: int
    features_shifted: int
    max_mean_shift: float
    median_log_scale: float
    train_log_ratio: float | None
    val_log_ratio: float | None
    noise_train: float | None
    noise_val: float | None

    @property
    def scale(self) -> float:
        """A typical per-sample loss of this model on this data, to express effects relatively."""
        return max((self.train_eval + self.val_eval) / 2, 1e-3)


def _get(report: Mapping[str, Any], *path: str) -> Any:
    node: Any = report
    for key in path:
        if not isinstance(node, Mapping) or node.get(key) is None:
            return None
        node = node[key]
    return node


def _num(report: Mapping[str, Any], *path: str) -> float | None:
    value = _get(report, *path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _interval(report: Mapping[str, Any], *path: str) -> tuple[float, float, float] | None:
    parts = [_num(report, *path, key) for key in ("value", "ci_low", "ci_high")]
    if any(p is None for p in parts):
        return None
    value, low, high = parts
    assert value is not None and low is not None and high is not None
    return value, low, high


def read(report: Mapping[str, Any] | None) -> Probe | None:
    """The probe's numbers, or None when there is no usable report."""
    if not report:
        return None
    train_eval = _num(report, "passes", "train_eval", "mean")
    val_eval = _num(report, "passes", "val_eval", "mean")
    eval_gap = _interval(report, "decomposition", "eval_gap")
    if train_eval is None or val_eval is None or eval_gap is None:
        return None
    return Probe(
        n_train=int(_num(report, "n_train") or 0),
        n_val=int(_num(report, "n_val") or 0),
        train_eval=train_eval,
        train_eval_se=_num(report, "passes", "train_eval", "se") or 0.0,
        val_eval=val_eval,
        val_eval_se=_num(report, "passes", "val_eval", "se") or 0.0,
        train_train_mode=_num(report, "passes", "train_train_mode", "mean"),
        val_train_mode=_num(report, "passes", "val_train_mode", "mean"),
        dropout_only=_num(report, "passes", "train_dropout_only", "mean"),
        batchnorm_only=_num(report, "passes", "train_batchnorm_only", "mean"),
        has_dropout=bool(_get(report, "model", "has_dropout")),
        has_batchnorm=bool(_get(report, "model", "has_batchnorm")),
        label_smoothing=_num(report, "label_smoothing") or 0.0,
        reported_train=_num(report, "decomposition", "reported_train"),
        train_time=_interval(report, "decomposition", "train_time_effect"),
        eval_gap=eval_gap,
        augmentation=_interval(report, "decomposition", "augmentation_effect"),
        perm_z=_num(report, "shuffled_split", "z"),
        perm_p=_num(report, "shuffled_split", "p_value"),
        leaked_fraction=_num(report, "leakage", "leaked_fraction"),
        exact_duplicates=int(_num(report, "leakage", "exact_duplicates") or 0),
        near_duplicates=int(_num(report, "leakage", "near_duplicates") or 0),
        leaked_val_loss=_num(report, "leakage", "leaked_val_loss"),
        clean_val_loss=_num(report, "leakage", "clean_val_loss"),
        leak_p=_num(report, "leakage", "p_value"),
        adversarial_auc=_num(report, "split_shift", "adversarial_auc"),
        label_p=_num(report, "split_shift", "label_p_value"),
        features_tested=int(_num(report, "split_shift", "features_tested") or 0),
        features_shifted=int(_num(report, "split_shift", "features_shifted") or 0),
        max_mean_shift=_num(report, "split_shift", "max_abs_mean_shift") or 0.0,
        median_log_scale=_num(report, "split_shift", "median_abs_log_scale_ratio") or 0.0,
        train_log_ratio=_num(report, "loss_recompute", "train_log_ratio"),
        val_log_ratio=_num(report, "loss_recompute", "val_log_ratio"),
        noise_train=_num(report, "label_noise", "train_confident_wrong"),
        noise_val=_num(report, "label_noise", "val_confident_wrong"),
    )
