"""Not converged: both curves still falling significantly at the end (Theil-Sen, Mann-Kendall)."""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.stats import log10p, mann_kendall, theil_sen
from app.analysis.wording import pvalue

FEATURES = (
    "cv_train_slope",
    "cv_val_slope",
    "cv_train_logp",
    "cv_val_logp",
    "cv_both",
    "cv_val_material",
)


MIN_GAIN = 0.02  # "clearly improving": the window's trend is worth 2% of the loss level or more


def _end_trend(epochs: np.ndarray, values: np.ndarray, level: float) -> tuple[float, float, int]:
    """Relative Theil-Sen slope per epoch over the last fifth (at least 5 points), its p-value."""
    finite = np.isfinite(values)
    epochs, values = epochs[finite], values[finite]
    k = min(len(values), max(5, len(values) // 5))
    if len(values) < 4:
        return 0.0, 1.0, k
    slope = theil_sen(epochs[-k:], values[-k:]) / level
    tau, p = mann_kendall(values[-k:])
    return slope, p if tau < 0 else 1.0, k


def check(c: Curves) -> Finding:
    if int(np.isfinite(c.train).sum()) < 4:
        return skipped(
            "convergence", "needs at least four training losses", dict.fromkeys(FEATURES, 0.0)
        )
    level = c.level()
    train_slope, train_p, _ = _end_trend(c.epoch, c.train, level)
    val_slope, val_p, k = _end_trend(c.epoch, c.val, level)
    both = float(
        train_slope < 0
        and val_slope < 0
        and train_p < 0.05
        and val_p < 0.05
        and -val_slope * k >= MIN_GAIN
    )
    # What the window's fall is worth next to where validation started: whether more epochs
    # could matter in practice, not only whether the decline is significant.
    finite_val = c.val[np.isfinite(c.val)]
    start = abs(float(finite_val[0])) if len(finite_val) else 0.0
    material = -val_slope * level * k / start if start else 0.0
    features = {
        "cv_val_material": float(np.clip(material * 10, -2, 2)),
        "cv_train_slope": float(np.clip(-train_slope * 10, -2, 2)),
        "cv_val_slope": float(np.clip(-val_slope * 10, -2, 2)),
        "cv_train_logp": log10p(train_p) / 10,
        "cv_val_logp": log10p(val_p) / 10,
        "cv_both": both,
    }
    detail = (
        f"at the end training loss changes {train_slope:+.2%} and validation loss "
        f"{val_slope:+.2%} of the loss level per epoch ({pvalue(train_p)} and {pvalue(val_p)})"
    )
    return Finding(
        "convergence",
        "flagged" if both else "passed",
        detail,
        statistic=val_slope,
        p_value=val_p,
        features=features,
    )
