"""Step losses thinned for the screen without hiding what matters on it.

A million batch losses cannot go to a browser, and plain decimation drops the spikes a user is
looking for. Min/max per bucket keeps, for each of about as many buckets as the chart has pixels
across, the lowest and the highest point in it: the drawn envelope is the one the full series
would draw, spikes and NaN-free stretches included."""

from dataclasses import dataclass

import numpy as np

from app.analysis.history import FloatArray
from app.runs.steps import StepTable

SCREEN_BUCKETS = 1000  # about the chart's width in pixels


@dataclass(frozen=True)
class Thinned:
    x: FloatArray
    y: FloatArray
    kept_from: int  # how many finite points the series had


def min_max(x: FloatArray, y: FloatArray, buckets: int = SCREEN_BUCKETS) -> Thinned:
    """At most twice `buckets` points, in x order: each bucket's minimum and maximum (once when
    they are the same point). Non-finite values are left out (the chart marks them apart)."""
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if len(x) <= 2 * buckets:
        return Thinned(x, y, len(x))
    edges = np.linspace(x[0], x[-1], buckets + 1)
    bucket = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, buckets - 1)
    by_value = np.lexsort((y, bucket))  # within each bucket, lowest y first
    ranked = bucket[by_value]
    first = np.r_[True, ranked[1:] != ranked[:-1]]
    last = np.r_[ranked[1:] != ranked[:-1], True]
    picked = np.unique(np.concatenate([by_value[first], by_value[last]]))
    return Thinned(x[picked], y[picked], len(x))


def thinned_steps(steps: StepTable, buckets: int = SCREEN_BUCKETS) -> Thinned | None:
    """A run's step losses against their fractional epoch, thinned; None without both columns."""
    loss, position = steps.columns.get("train_loss"), steps.columns.get("epoch")
    if loss is None or position is None or not len(steps.step):
        return None
    present = loss.mask() & position.mask()
    return min_max(position.values[present], loss.values[present], buckets)
