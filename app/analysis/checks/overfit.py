"""Overfitting: a significant upward trend of validation loss after its minimum.

A gap alone is normal; what matters is the trend after the best epoch, judged against its noise
(Mann-Kendall), with training loss still falling (Theil-Sen).
"""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.stats import MK_MIN_POINTS, log10p, mann_kendall, theil_sen
from app.analysis.wording import pvalue

FEATURES = (
    "of_tau",
    "of_logp",
    "of_rise_rel",
    "of_frac_after",
    "of_train_falls",
    "of_gap_widen",
    "of_val_progress",
    "of_tau_late",
)
# A rise after the minimum of this share of the loss level is one that matters (the symptoms'
# bar too). A smaller one counts as trend evidence only in proportion: a validation loss that
# creeps from 0.1832 to 0.1837 over forty epochs after a step schedule trends up with p < 0.001
# and changes nothing, and the best checkpoint is worth no more than the last.
MIN_RISE_REL = 0.05


def check(c: Curves) -> Finding:
    finite = np.isfinite(c.val)
    if int(finite.sum()) < 5:
        return skipped(
            "overfit", "needs at least five validation losses", dict.fromkeys(FEATURES, 0.0)
        )
    epochs, val = c.epoch[finite], c.val[finite]
    level = c.level()
    best = int(np.argmin(val))
    after = val[best:]
    tau, p = mann_kendall(after) if len(after) >= 4 else (0.0, 1.0)
    # The trend over the later half of the epochs after the minimum: still upward when the model
    # keeps memorizing, flat or falling after a one-off step up (a learning-rate drop's bump).
    late = after[len(after) // 2 :]
    tau_late = mann_kendall(late)[0] if len(late) >= MK_MIN_POINTS else tau
    rise = float((np.median(after[-3:]) - val[best]) / level) if len(after) > 1 else 0.0
    train_falls = 0.0
    widen = 0.0
    train_after = c.train[finite][best:]
    ok = np.isfinite(train_after)
    if ok.sum() >= 3:
        slope = theil_sen(epochs[best:][ok], train_after[ok])
        train_falls = float(np.clip(-slope / level * 10, -1, 1))
        widen = mann_kendall((after - train_after)[ok])[0]
    material = float(np.clip(rise / MIN_RISE_REL, 0, 1))
    features = {
        "of_tau": tau * material,
        "of_logp": log10p(p) * float(tau > 0) / 10 * material,
        "of_rise_rel": float(np.clip(rise, 0, 3)),
        "of_frac_after": (len(val) - 1 - best) / (len(val) - 1),
        "of_train_falls": train_falls,
        "of_gap_widen": widen,
        # How far validation improved before its minimum: overfitting follows real learning,
        # a mis-preprocessed validation set barely improves at all.
        "of_val_progress": float(np.clip((val[0] - val[best]) / level, 0, 3)),
        "of_tau_late": tau_late,
    }
    detail = (
        f"validation loss is lowest at epoch {epochs[best]:g} ({c.shown(val[best]):.4g}); after it "
        f"the trend is tau={tau:.2f} (Mann-Kendall {pvalue(p)}), a rise of {rise:.0%} of the "
        "loss level"
    )
    flagged = tau > 0 and p < 0.05 and len(after) >= 4
    return Finding(
        "overfit",
        "flagged" if flagged else "passed",
        detail,
        statistic=tau,
        p_value=p,
        features=features,
    )
