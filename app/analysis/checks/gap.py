"""Gap size and significance against the noise of the validation curve.

The validation loss's standard error comes from its epoch-to-epoch residuals (second
differences) and, when `val_size` is known, from the sampling error of a mean loss over that
many samples (per-sample losses of a classifier spread about as much as their mean).
"""

import math

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.result import CheckStatus
from app.analysis.stats import noise_sigma

FEATURES = (
    "gap_rel",
    "gap_z",
    "gap_within_noise",
    "gap_first_rel",
    "gap_below_frac",
    "val_noise_rel",
    "gap_track",
)


def check(c: Curves) -> Finding:
    if int(np.sum(c.both)) < 2:
        return skipped(
            "gap",
            "needs at least two epochs with both train_loss and val_loss",
            dict.fromkeys(FEATURES, 0.0),
        )
    tr, va = c.train[c.both], c.val[c.both]
    level = c.level()
    k = max(1, min(5, len(va) // 3))
    gap = float(np.mean(va[-k:] - tr[-k:]))
    sigma = noise_sigma(va)
    se = sigma / math.sqrt(k)
    val_size = c.config.get("val_size")
    if isinstance(val_size, int | float) and not isinstance(val_size, bool) and val_size > 0:
        se = max(se, float(np.mean(np.abs(va[-k:]))) / math.sqrt(float(val_size)))
    z = gap / se if se > 0 else math.copysign(20.0, gap) if gap else 0.0
    diffs_tr, diffs_va = np.diff(tr), np.diff(va)
    track = 0.0
    if len(diffs_tr) >= 3 and np.std(diffs_tr) > 0 and np.std(diffs_va) > 0:
        track = float(np.corrcoef(diffs_tr, diffs_va)[0, 1])
    features = {
        "gap_rel": float(np.clip(gap / level, -3, 3)),
        # log-compressed: real logs reach z in the hundreds, which says no more than z = 20.
        "gap_z": float(np.sign(z) * np.log1p(min(abs(z), 1e6))) / 3,
        "gap_within_noise": float(abs(z) < 2),
        "gap_first_rel": float(np.clip((va[0] - tr[0]) / level, -3, 3)),
        "gap_below_frac": float(np.mean(va < tr)),
        "val_noise_rel": float(min(sigma / level, 2.0)),
        "gap_track": track,
    }
    side = "below" if gap < 0 else "above"
    detail = (
        f"over the last {k} epochs validation loss is {abs(gap):.3g} {side} training loss; "
        f"its standard error is {se:.2g}, so the gap is {abs(z):.1f} standard errors"
    )
    status: CheckStatus = "flagged" if abs(z) >= 2 else "passed"
    return Finding("gap", status, detail, statistic=gap, features=features)
