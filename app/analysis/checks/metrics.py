"""Accuracy and loss disagreeing: validation loss rises while validation accuracy still rises or
holds (or both fall), because loss measures confidence and accuracy only the arg-max."""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.stats import mann_kendall, theil_sen

FEATURES = ("ad_divergence", "ad_acc_holds", "has_accuracy")
SAME_WAY = 0.1  # product of the loss and accuracy Kendall taus: both move the same way
CLEAR_RISE = 0.3  # Kendall tau of a validation loss that clearly rises ...
ACC_HOLDS = 0.01  # ... while accuracy loses under a point over the same epochs (Theil-Sen)
# The loss must also move by a share of the loss level over those epochs: a validation loss
# flat at 0.0179 that creeps up by 1e-5 is a significant trend and no disagreement at all.
MATERIAL_CHANGE = 0.05  # as for validation rising after its minimum (symptoms.shape)


def check(c: Curves) -> Finding:
    if c.val_acc is None:
        return skipped(
            "metrics",
            "no validation accuracy reported",
            {"ad_divergence": 0.0, "ad_acc_holds": 0.0, "has_accuracy": 0.0},
        )
    both = np.isfinite(c.val) & np.isfinite(c.val_acc)
    if int(both.sum()) < 6:
        return skipped(
            "metrics",
            "needs at least six epochs with loss and accuracy",
            {"ad_divergence": 0.0, "ad_acc_holds": 0.0, "has_accuracy": 1.0},
        )
    loss, acc = c.val[both], c.val_acc[both]
    half = len(loss) // 2
    tau_loss, p_loss = mann_kendall(loss[half:])
    tau_acc, _ = mann_kendall(acc[half:])
    divergence = max(tau_loss * tau_acc, 0.0)
    epochs = c.epoch[both][half:]
    acc_change = theil_sen(epochs, acc[half:]) * float(epochs[-1] - epochs[0])
    holds = float(tau_loss >= CLEAR_RISE and acc_change >= -ACC_HOLDS)
    features = {"ad_divergence": divergence, "ad_acc_holds": holds, "has_accuracy": 1.0}
    change = theil_sen(epochs, loss[half:]) * float(epochs[-1] - epochs[0])
    material = abs(change) >= MATERIAL_CHANGE * c.level()
    detail = (
        f"over the second half validation loss trends tau={tau_loss:+.2f} (changing by "
        f"{change / c.level():+.0%} of the loss level) and accuracy tau={tau_acc:+.2f} "
        f"(accuracy changes {acc_change:+.3f})"
    )
    flagged = (divergence > SAME_WAY or holds > 0) and p_loss < 0.05 and material
    return Finding(
        "metrics",
        "flagged" if flagged else "passed",
        detail,
        statistic=divergence,
        features=features,
    )
