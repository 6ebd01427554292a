"""Premature early stopping: the run ends a few epochs after a small bump in a validation
curve that was still falling steeply."""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.stats import theil_sen

FEATURES = ("es_tail_short", "es_bump_small", "es_pre_slope", "es_best_late")


def check(c: Curves) -> Finding:
    finite = np.isfinite(c.val)
    if int(finite.sum()) < 5:
        return skipped(
            "early_stop", "needs at least five validation losses", dict.fromkeys(FEATURES, 0.0)
        )
    epochs, val = c.epoch[finite], c.val[finite]
    level = c.level()
    best = int(np.argmin(val))
    tail = len(val) - 1 - best
    bump = float((val[-1] - val[best]) / level)
    window = slice(max(0, best - 5), best + 1)
    pre = -theil_sen(epochs[window], val[window]) / level if best >= 2 else 0.0
    features = {
        "es_tail_short": float(1 <= tail <= 5),
        "es_bump_small": float(0 < bump < 0.05),
        "es_pre_slope": float(np.clip(pre * 10, -2, 2)),
        "es_best_late": best / (len(val) - 1),
    }
    detail = (
        f"the run ends {tail} epochs after the best validation loss (epoch "
        f"{epochs[best]:g}), {bump:.1%} of the level above it; before the best epoch it "
        f"fell {pre:.1%} of the level per epoch"
    )
    flagged = 1 <= tail <= 5 and 0 < bump < 0.05 and pre > 0.01
    return Finding(
        "early_stop",
        "flagged" if flagged else "passed",
        detail,
        statistic=float(tail),
        features=features,
    )
