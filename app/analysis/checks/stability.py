"""A too-high learning rate: oscillation, spikes and upward drift of the training loss.

Spikes are residuals from a running median beyond 5 robust standard deviations (two or more:
one is a bad batch); oscillation is the share of sign changes between successive changes; drift
is a Theil-Sen slope over the second half that is positive and significant (Mann-Kendall). Each
counts only when it moves the loss by a share of where it started (effect size, not
significance).
"""

import numpy as np
from scipy.ndimage import median_filter

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.stats import mann_kendall, noise_sigma, robust_sigma, theil_sen
from app.analysis.wording import count

FEATURES = (
    "st_sign_changes",
    "st_rough",
    "st_spikes",
    "st_drift_up",
    "st_steps_rough",
    "st_val_sign_changes",
    "st_val_rough",
)


# For independent noise two of three successive changes reverse direction; steps that overshoot
# make the loss alternate more often than that, noise alone does not.
WHITE_NOISE_SIGN_CHANGES = 2 / 3
ROUGH = 0.1  # epoch-to-epoch roughness of 10% of the loss level
# One spike is one bad batch or a restart; steps that overshoot spike again. In the scenario
# suite a lone spike came with a too-high learning rate in 1 of 29 runs.
MIN_SPIKES = 2
# Swings must matter next to where the loss started: a loss trained down to 1e-12 jitters by
# float rounding, a millionth of its first value, and that is no overshooting.
MATERIAL_SWING = 0.01


def _sign_changes(values: np.ndarray) -> float:
    """Share of successive changes that reverse direction (about ½ for white noise)."""
    changes = np.diff(values)
    signs = np.sign(changes[changes != 0])
    return float(np.mean(signs[1:] != signs[:-1])) if len(signs) > 2 else 0.0


def check(c: Curves) -> Finding:
    finite = np.isfinite(c.train)
    if int(finite.sum()) < 5:
        return skipped(
            "stability", "needs at least five training losses", dict.fromkeys(FEATURES, 0.0)
        )
    epochs, train = c.epoch[finite], c.train[finite]
    val = c.val[np.isfinite(c.val)]
    level = c.level()
    material = MATERIAL_SWING * abs(float(train[0]))
    sign_changes = _sign_changes(train)
    residual = train - median_filter(train, size=5, mode="nearest")
    sigma = robust_sigma(residual)
    spikes = int(np.sum(residual > max(5 * sigma + 0.05 * level, material)))
    jitter = robust_sigma(np.diff(train, 2)) if len(train) >= 4 else 0.0
    rough = jitter / level
    half = train[len(train) // 2 :]
    per_epoch = theil_sen(epochs[len(train) // 2 :], half)
    slope = per_epoch / level
    rise = per_epoch * float(epochs[-1] - epochs[len(train) // 2])  # over the second half
    tau, p = mann_kendall(half)
    drift = float(slope > 0 and tau > 0 and p < 0.05 and rise >= material) * min(slope * 10, 1.0)
    steps_rough = 0.0
    if c.has_steps:
        steps_rough = robust_sigma(np.diff(c.step_loss)) / max(
            float(np.median(np.abs(c.step_loss))), 1e-12
        )
    features = {
        "st_sign_changes": sign_changes,
        "st_rough": float(min(rough, 2.0)),
        "st_spikes": min(spikes / len(train) * 10, 1.0),
        "st_drift_up": drift,
        "st_steps_rough": float(min(steps_rough, 2.0)),
        # Validation is measured at one instant, not averaged over an epoch, so overshooting
        # steps show there first.
        "st_val_sign_changes": _sign_changes(val) if len(val) >= 5 else 0.0,
        "st_val_rough": float(min(noise_sigma(val) / level, 2.0)),
    }
    detail = (
        f"training loss changes direction in {sign_changes:.0%} of epochs, has "
        f"{count(int(spikes), 'spike')}, and drifts {slope:+.2%} of its level per epoch over "
        "the second half"
    )
    flagged = (
        spikes >= MIN_SPIKES
        or drift > 0
        or (sign_changes > WHITE_NOISE_SIGN_CHANGES and rough > ROUGH and jitter >= material)
    )
    return Finding(
        "stability",
        "flagged" if flagged else "passed",
        detail,
        statistic=sign_changes,
        features=features,
    )
