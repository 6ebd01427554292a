"""Numerical instability: NaN or infinite losses, or jumps of an order of magnitude or more."""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding
from app.analysis.history import FloatArray

EPOCH_FLOOR = 0.1  # an epoch loss jump counts from at least this share of the run's level
STEP_FLOOR = 1.0  # a batch loss must reach ten times this scale to count as a jump
START_SHARE = 0.05  # the run's first batches: the share of them that sets its starting loss
START_MIN_STEPS = 10


def _largest_jump(values: FloatArray, floor: float) -> float:
    """The largest rise between neighbours, in decades, counting values below `floor` as
    `floor`: a batch loss going from 1e-5 to 1e-3 is noise near zero, not an explosion."""
    positive = values[np.isfinite(values) & (values > 0)]
    if len(positive) < 2 or floor <= 0:
        return 0.0
    return max(float(np.max(np.diff(np.log10(np.maximum(positive, floor))))), 0.0)


def _step_scale(steps: FloatArray, level: float) -> float:
    """The larger of the run's level and the loss its first batches had. Batch losses of a run
    that trained to near zero scatter over decades below where it started; a loss explodes
    when it climbs far above that start, not when 1e-5 becomes 1e-3."""
    finite = steps[np.isfinite(steps)]
    if not len(finite):
        return level
    first = finite[: max(START_MIN_STEPS, int(len(finite) * START_SHARE))]
    return max(level, float(np.median(first)))


def check(c: Curves) -> Finding:
    count = c.nonfinite_train + c.nonfinite_val + c.nonfinite_steps
    reported = max(c.reported_train + c.reported_val + len(c.step_loss) + c.nonfinite_steps, 1)
    level = c.level()
    jump = max(
        _largest_jump(c.train, EPOCH_FLOOR * level),
        _largest_jump(c.val, EPOCH_FLOOR * level),
        _largest_jump(c.step_loss, STEP_FLOOR * _step_scale(c.step_loss, level)),
    )
    features = {
        "nf_any": float(count > 0),
        "nf_frac": min(count / reported * 10, 1.0),
        "nf_jump": min(jump, 5.0),
    }
    if count:
        detail = (
            f"{count} non-finite loss values ({c.nonfinite_train} train, {c.nonfinite_val} "
            f"validation, {c.nonfinite_steps} step)"
        )
        return Finding("nonfinite", "flagged", detail, statistic=float(count), features=features)
    if jump >= 1.0:
        detail = f"a loss jumps up by {jump:.1f} orders of magnitude between two points"
        return Finding("nonfinite", "flagged", detail, statistic=jump, features=features)
    return Finding(
        "nonfinite",
        "passed",
        "all losses finite, no order-of-magnitude jumps",
        statistic=0.0,
        features=features,
    )
