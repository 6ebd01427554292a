"""A constant offset that survives flattening: regularization or augmentation at training time.

The half-epoch lag shrinks as the curves flatten; dropout, label smoothing, an L2 term in the
reported loss or harder augmented inputs keep training loss above validation loss by a roughly
constant amount to the end, and training accuracy below validation accuracy.
"""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped

FEATURES = ("off_late_rel", "off_stable", "off_neg_stable", "acc_inverted")


def check(c: Curves) -> Finding:
    if int(np.sum(c.both)) < 6:
        return skipped(
            "offset", "needs at least six epochs with both losses", dict.fromkeys(FEATURES, 0.0)
        )
    tr, va = c.train[c.both], c.val[c.both]
    level = c.level()
    third = len(tr) // 3
    late = float(np.mean(va[-third:] - tr[-third:]))
    middle = float(np.mean(va[third:-third] - tr[third:-third]))
    change = abs(late - middle) / (abs(late) + 0.02 * level)
    stable = 1 / (1 + change)
    inverted = 0.0
    if c.train_acc is not None and c.val_acc is not None:
        both = np.isfinite(c.train_acc) & np.isfinite(c.val_acc)
        if both.sum() >= 2:
            inverted = float(np.mean((c.val_acc - c.train_acc)[both][-max(1, third) :]) > 0)
    features = {
        "off_late_rel": float(np.clip(late / level, -3, 3)),
        "off_stable": stable,
        "off_neg_stable": stable * float(late < 0) * min(abs(late) / level * 5, 1.0),
        "acc_inverted": inverted,
    }
    detail = (
        f"late gap {late:.3g} (validation minus training) vs {middle:.3g} mid-run: "
        f"{'stable' if stable > 0.6 else 'changing'}"
    )
    if inverted:
        detail += "; training accuracy below validation accuracy"
    flagged = late < 0 and stable > 0.6
    return Finding(
        "offset", "flagged" if flagged else "passed", detail, statistic=late, features=features
    )
