"""Accuracy and loss disagreeing: validation loss rises while validation accuracy still rises
(or the reverse), because loss measures confidence and accuracy only the arg-max."""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.stats import mann_kendall

FEATURES = ("ad_divergence", "has_accuracy")


def check(c: Curves) -> Finding:
    if c.val_acc is None:
        return skipped(
            "metrics",
            "no validation accuracy reported",
            {"ad_divergence": 0.0, "has_accuracy": 0.0},
        )
    both = np.isfinite(c.val) & np.isfinite(c.val_acc)
    if int(both.sum()) < 6:
        return skipped(
            "metrics",
            "needs at least six epochs with loss and accuracy",
            {"ad_divergence": 0.0, "has_accuracy": 1.0},
        )
    loss, acc = c.val[both], c.val_acc[both]
    half = len(loss) // 2
    tau_loss, p_loss = mann_kendall(loss[half:])
    tau_acc, _ = mann_kendall(acc[half:])
    divergence = max(tau_loss * tau_acc, 0.0)
    features = {"ad_divergence": divergence, "has_accuracy": 1.0}
    detail = (
        f"over the second half validation loss trends tau={tau_loss:+.2f} and accuracy "
        f"tau={tau_acc:+.2f}"
    )
    flagged = divergence > 0.1 and p_loss < 0.05
    return Finding(
        "metrics",
        "flagged" if flagged else "passed",
        detail,
        statistic=divergence,
        features=features,
    )
