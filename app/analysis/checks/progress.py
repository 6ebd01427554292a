"""Progress from the start: underfitting (high and flat) and a too-low learning rate (slow and
nearly linear, or sitting at chance for a good part of the run before it learns), against the
loss of chance when the number of classes is known.

A classifier starts at chance (ln C); steps too small to leave that saddle keep the loss there
for epochs before it falls. In both generators' runs, every classifier that sat at chance for a
fifth of its run and then learned did better with ten times the learning rate.
"""

import numpy as np
from scipy import stats

from app.analysis.checks.failure import CHANCE_BAND
from app.analysis.checks.failure import chance as chance_loss
from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.history import FloatArray
from app.analysis.wording import change

FEATURES = (
    "pg_progress",
    "pg_rel_level",
    "pg_linear",
    "pg_improve_ratio",
    "pg_gap_small",
    "pg_stall",
)
STALL_BAND = 0.03  # losses within 3% of the first one have not moved from the start
STALL_EPOCHS = 3  # for at least three epochs ...
STALL_SHARE = 0.2  # ... and a fifth of the run
STALL_ESCAPE = 0.2  # after which the loss fell at least a fifth below where it started
MIN_LOSSES = 4  # training losses the check needs


def stall(c: Curves, train: FloatArray) -> int:
    """How many epochs a classifier's training loss sat at chance before it fell; 0 when it did
    not (it moved at once, never left, or the chance level is unknown or not where it began)."""
    ln_c = chance_loss(c)
    first = float(train[0])
    if ln_c is None or first <= 0 or abs(first / ln_c - 1) > CHANCE_BAND:
        return 0
    moved = np.nonzero(np.abs(train / first - 1) > STALL_BAND)[0]
    if len(moved) == 0 or train[moved[0]] > first or train[-1] > first * (1 - STALL_ESCAPE):
        return 0
    epochs = int(moved[0])
    return epochs if epochs >= max(STALL_EPOCHS, STALL_SHARE * len(train)) else 0


def check(c: Curves) -> Finding:
    finite = np.isfinite(c.train)
    if int(finite.sum()) < MIN_LOSSES:
        return skipped(
            "progress", "needs at least four training losses", dict.fromkeys(FEATURES, 0.0)
        )
    epochs, train = c.epoch[finite], c.train[finite]
    start = float(np.median(train[:2]))
    end = float(np.median(train[-2:]))
    progress = 1 - end / start if start > 0 else 0.0
    ln_c = chance_loss(c)
    chance = start if ln_c is None else ln_c
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
    stalled = stall(c, train)
    features = {
        "pg_stall": stalled / len(train),
        "pg_progress": float(np.clip(progress, -1, 1)),
        "pg_rel_level": float(np.clip(rel_level, 0, 3)),
        "pg_linear": linear,
        "pg_improve_ratio": ratio,
        "pg_gap_small": gap_small,
    }
    detail = (
        f"training loss went from {c.shown(start):.4g} to {c.shown(end):.4g} "
        f"({change(progress)}); "
        f"improvement per epoch at the end is {ratio:.0%} of that at the start"
    )
    if stalled:
        detail += (
            f"; it sat at chance ({c.shown(train[0]):.4g}, ln C {chance:.4g}) for the first "
            f"{stalled} of {len(train)} epochs before it fell"
        )
    flagged = progress < 0.2 or (linear > 0.95 and ratio > 0.5)
    return Finding(
        "progress",
        "flagged" if flagged else "passed",
        detail,
        statistic=progress,
        features=features,
    )
