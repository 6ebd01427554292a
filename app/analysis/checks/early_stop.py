"""Premature early stopping: the run ends a few epochs after a small bump in a validation
curve that was still falling steeply."""

import numpy as np

from app.analysis.config_keys import early_stopping_patience, planned_epochs
from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.stats import noise_sigma, theil_sen
from app.analysis.wording import count

PATIENCE_MAX = 5  # epochs after the best: what an early-stopping patience usually is
SMALL_BUMP = 0.05  # a rise above the best this small (share of the level) is noise
STILL_FALLING = 0.01  # validation falling this share of the level per epoch before the best
# A run the config says early stopping ended (it stopped its patience after its best, before the
# planned epochs) stopped on whatever bump came: judged against the curve's own epoch-to-epoch
# noise, not the fixed share, which is there to keep an ordinary wiggle at the end of a run that
# was never stopped from reading as a stop.
BUMP_SIGMAS = 2.0
FEATURES = ("es_tail_short", "es_bump_small", "es_pre_slope", "es_best_late")
MIN_POINTS = 5  # validation losses needed to tell a bump from the trend before it


def stopped_by_patience(c: Curves) -> bool:
    """Whether the config's early stopping ended the run: it ended `early_stopping_patience`
    evaluations after its best, before the epochs the config plans (when it says)."""
    finite = np.isfinite(c.val)
    if not finite.any():
        return False
    val = c.val[finite]
    tail = len(val) - 1 - int(np.argmin(val))
    patience, planned = early_stopping_patience(c.config), planned_epochs(c.config)
    return tail == patience and (planned is None or float(c.epoch[finite][-1]) < planned)


def check(c: Curves) -> Finding:
    finite = np.isfinite(c.val)
    if int(finite.sum()) < MIN_POINTS:
        return skipped(
            "early_stop",
            f"needs at least {MIN_POINTS} validation losses",
            dict.fromkeys(FEATURES, 0.0),
        )
    epochs, val = c.epoch[finite], c.val[finite]
    level = c.level()
    best = int(np.argmin(val))
    tail = len(val) - 1 - best
    bump = float((val[-1] - val[best]) / level)
    small = SMALL_BUMP
    if stopped_by_patience(c):
        small = max(SMALL_BUMP, BUMP_SIGMAS * noise_sigma(val) / level)
    window = slice(max(0, best - 5), best + 1)
    pre = -theil_sen(epochs[window], val[window]) / level if best >= 2 else 0.0
    features = {
        "es_tail_short": float(1 <= tail <= PATIENCE_MAX),
        "es_bump_small": float(0 < bump < small),
        "es_pre_slope": float(np.clip(pre * 10, -2, 2)),
        "es_best_late": best / (len(val) - 1),
    }
    flagged = 1 <= tail <= PATIENCE_MAX and 0 < bump < small and pre > STILL_FALLING
    ended = (
        f"the run ends {count(tail, 'epoch')} after its best validation loss (epoch "
        f"{epochs[best]:g}), {bump:.1%} of the level above it"
    )
    if flagged:
        detail = f"{ended}, while before it validation fell {pre:.1%} of the level per epoch"
    elif tail > PATIENCE_MAX:
        detail = (
            f"not stopped early: {ended}; early stopping with a patience of {PATIENCE_MAX} "
            f"would have ended it at epoch {epochs[min(best + PATIENCE_MAX, len(val) - 1)]:g}"
        )
    elif tail == 0:
        detail = f"not stopped early: validation loss is lowest at the last epoch ({epochs[-1]:g})"
    elif bump >= small:
        detail = f"not premature: {ended}, a rise larger than noise"
    else:
        detail = (
            f"not premature: {ended}, and validation had flattened before it (it fell "
            f"{pre:.1%} of the level per epoch)"
        )
    return Finding(
        "early_stop",
        "flagged" if flagged else "passed",
        detail,
        statistic=float(tail),
        features=features,
    )
