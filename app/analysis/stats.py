"""Small statistical helpers, each a named method from scipy, made safe for short series."""

import math

import numpy as np
from scipy import stats

from app.analysis.history import FloatArray

MAX_PAIRWISE = 400  # Theil-Sen is O(n^2): longer series are thinned evenly first.


def _thin(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    if len(x) <= MAX_PAIRWISE:
        return x, y
    index = np.linspace(0, len(x) - 1, MAX_PAIRWISE).round().astype(np.int64)
    return x[index], y[index]


def theil_sen(x: FloatArray, y: FloatArray) -> float:
    """Theil-Sen slope (median of pairwise slopes): robust to spikes, unlike least squares.

    The slope of `scipy.stats.theilslopes(y, x)`, computed as scipy does but without the
    confidence interval it always adds (most of its cost: the analysis only reads the slope;
    tests/test_analysis_checks.py checks the two agree).
    """
    if len(x) < 3:
        return 0.0 if len(x) < 2 else float((y[-1] - y[0]) / (x[-1] - x[0]))
    tx, ty = _thin(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    dx = tx[:, np.newaxis] - tx
    dy = ty[:, np.newaxis] - ty
    ascending = dx > 0
    slopes = dy[ascending] / dx[ascending]
    return float(np.median(slopes)) if slopes.size else math.nan


MK_MIN_POINTS = 4  # below this no ordering is significant: the test answers (0, 1)


def mann_kendall(y: FloatArray) -> tuple[float, float]:
    """Mann-Kendall trend test as Kendall's tau of the values against time: (tau, p-value)."""
    if len(y) < MK_MIN_POINTS or float(np.ptp(y)) == 0.0:
        return 0.0, 1.0
    result = stats.kendalltau(np.arange(len(y)), y)
    tau, p = float(result.statistic), float(result.pvalue)
    return (0.0, 1.0) if math.isnan(tau) else (tau, p)


NORMAL_MAD_SCALE = 0.6744897501960817  # the normal's upper quartile, scipy's scale="normal"


def robust_sigma(values: FloatArray) -> float:
    """Standard deviation estimated from the median absolute deviation (robust to spikes).

    `scipy.stats.median_abs_deviation(values, scale="normal")`, computed as scipy does, without
    its argument-handling wrapper: a diagnosis calls this a dozen times, and the wrapper cost
    a fifth of the whole analysis (tests/test_analysis_checks.py checks the two agree).
    """
    if len(values) < 2:
        return 0.0
    median = np.median(values)
    return float(np.median(np.abs(values - median)) / NORMAL_MAD_SCALE)


def noise_sigma(y: FloatArray) -> float:
    """Epoch-to-epoch noise of a curve: the robust spread of its second differences.

    Second differences remove a locally linear trend; for white noise of sd s they have sd
    s*sqrt(6).
    """
    if len(y) < 4:
        return 0.0
    return robust_sigma(np.diff(y, 2)) / math.sqrt(6.0)


def log10p(p: float) -> float:
    """-log10 of a p-value, capped so one overwhelming test cannot dominate a linear model."""
    return min(-math.log10(max(p, 1e-300)), 10.0)


def safe_ratio(a: float, b: float, default: float = 0.0) -> float:
    return a / b if b != 0 and math.isfinite(a) and math.isfinite(b) else default
