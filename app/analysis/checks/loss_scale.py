"""Loss computed differently for training and validation.

Signs: a constant multiplicative ratio between the curves far from 1 (sum vs mean reduction is
about the batch size), a training curve far noisier than an epoch mean could be (only the last
batch reported), or an epoch-mean of the step losses that disagrees with the reported training
loss. Negative values are no sign here: a Gaussian negative log-likelihood or an ELBO goes below
zero on both sides alike; a loss that cannot (cross entropy, squared error) is the failure
check's (`negative_loss`).
"""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.stats import noise_sigma

FEATURES = ("ls_log_ratio", "ls_train_over_val", "ls_ratio_stable", "ls_noise_ratio")


def check(c: Curves) -> Finding:
    if int(np.sum(c.both)) < 4:
        return skipped(
            "loss_scale",
            "needs at least four epochs with both losses",
            dict.fromkeys(FEATURES, 0.0),
        )
    tr, va = c.train[c.both], c.val[c.both]
    positive = (tr > 0) & (va > 0)
    log_ratio = np.log(tr[positive] / va[positive]) if positive.sum() >= 2 else np.zeros(2)
    mean = float(np.mean(log_ratio))
    spread = float(np.std(log_ratio))
    stable = 1 / (1 + spread / (abs(mean) + 0.05))
    noise_tr = noise_sigma(tr) / max(float(np.median(np.abs(tr))), 1e-12)
    noise_va = noise_sigma(va) / max(float(np.median(np.abs(va))), 1e-12)
    noise_ratio = float(np.log((noise_tr + 1e-3) / (noise_va + 1e-3)))
    features = {
        "ls_log_ratio": float(min(abs(mean), 6.0)) / 3,
        # Signed: a summed training loss sits far above validation, a mis-scaled validation set
        # far above training.
        "ls_train_over_val": float(np.clip(mean, -6, 6)) / 3,
        "ls_ratio_stable": stable * float(abs(mean) > np.log(2)),
        "ls_noise_ratio": float(np.clip(noise_ratio, -3, 3)) / 3,
    }
    detail = (
        f"training/validation loss ratio {np.exp(mean):.3g} (spread {spread:.2f} in log); "
        f"relative epoch noise {noise_tr:.2g} in training vs {noise_va:.2g} in validation"
    )
    flagged = (abs(mean) > np.log(3) and stable > 0.7) or noise_ratio > 1.5
    return Finding(
        "loss_scale",
        "flagged" if flagged else "passed",
        detail,
        statistic=float(np.exp(mean)),
        features=features,
    )
