"""Progress from the start: underfitting (high and flat) and a too-low learning rate (slow and
nearly linear), against the loss of chance when the number of classes is known."""

import math

import numpy as np
from scipy import stats

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.wording import change

FEATURES = ("pg_progress", "pg_rel_level", "pg_linear", "pg_improve_ratio", "pg_gap_small")


def check(c: Curves) -> Finding:
    finite = np.isfinite(c.train)
    if int(finite.sum()) < 4:
        return skipped(
            "progress", "needs at least four training losses", dict.fromkeys(FEATURES, 0.0)
        )
    epochs, train = c.epoch[finite], c.train[finite]
    start = float(np.median(train[:2]))
    end = float(np.median(train[-2:]))
    progress = 1 - end / start if start > 0 else 0.0
    classes = c.config.get("num_classes")
    chance = start
    if c.task == "classification" and isinstance(classes, int) and classes >= 2:
        chance = math.log(classes)
    rel_level = end / chance if chance > 0 else 1.0
    linear = float(stats.linregress(epochs, train).rvalue ** 2) if np.ptp(train) > 0 else 0.0
    drops = -np.diff(train)
    third = max(1, len(drops) // 3)
    first, last = float(np.mean(drops[:third])), float(np.mean(drops[-third:]))
    ratio = float(np.clip(last / first, -1, 2)) if first > 0 else 0.0
    gap_small = 0.0
    if int(np.sum(c.both)) >= 2:
        gap_end = abs(float(c.val[c.both][-1] - c.train[c.both][-1]))
        gap_small = 1 / (1 + 20 * gap_end / max(abs(end), 1e-12))
    features = {
        "pg_progress": float(np.clip(progress, -1, 1)),
        "pg_rel_level": float(np.clip(rel_level, 0, 3)),
        "pg_linear": linear,
        "pg_improve_ratio": ratio,
        "pg_gap_small": gap_small,
    }
    detail = (
        f"training loss went from {start:.4g} to {end:.4g} ({change(progress)}); "
        f"improvement per epoch at the end is {ratio:.0%} of that at the start"
    )
    flagged = progress < 0.2 or (linear > 0.95 and ratio > 0.5)
    return Finding(
        "progress",
        "flagged" if flagged else "passed",
        detail,
        statistic=progress,
        features=features,
    )
