"""Validation samples that are copies of training samples (re-evaluation item 6).

The share of validation samples with an exact or near-duplicate in the training set, and whether
those leaked samples score far better than the clean ones (the model memorized them).
"""

import math

import numpy as np

from app.analysis import probe as probes
from app.analysis.curves import Curves
from app.analysis.finding import Finding

CHECK = "reeval_leakage"
FEATURES = ("pr_leak_frac", "pr_exact_frac", "pr_leak_loss")
LEAK_FRACTION = 0.01  # 1% of validation samples with a copy in training, beyond chance ...
CHANCE_P = 0.05  # ... and more often than training samples have one in the rest of training


def check(c: Curves) -> Finding:
    p = probes.read(c.probe)
    if p is None or p.leaked_fraction is None:
        return probes.not_reevaluated(
            CHECK,
            FEATURES,
            f"needs a re-evaluation with the training and validation data "
            f"({probes.REEVALUATE_HOW})",
        )
    gain = 0.0
    if p.leaked_val_loss is not None and p.clean_val_loss is not None:
        gain = math.log((p.clean_val_loss + 1e-6) / (p.leaked_val_loss + 1e-6))
    features = {
        "pr_leak_frac": p.leaked_fraction,
        "pr_exact_frac": p.exact_duplicates / p.n_val if p.n_val else 0.0,
        "pr_leak_loss": float(np.clip(gain, 0, 5)),
    }
    detail = (
        f"{p.near_duplicates} of {p.n_val} validation samples ({p.leaked_fraction:.1%}) have a "
        f"copy in the training set ({p.exact_duplicates} exact)"
    )
    if p.leaked_val_loss is not None and p.clean_val_loss is not None:
        detail += (
            f"; leaked samples score {p.leaked_val_loss:.4g} vs {p.clean_val_loss:.4g} for the rest"
        )
    excess, p_value = p.copies_beyond_chance()
    if p_value is not None:
        detail += (
            f"; by chance {p.chance_copies or 0.0:.1%} of training samples have a copy in the rest "
            f"of training ({excess:+.1%} beyond it)"
        )
    flagged = excess >= LEAK_FRACTION and (p_value is None or p_value < CHANCE_P)
    return Finding(
        CHECK,
        "flagged" if flagged else "passed",
        detail,
        statistic=p.leaked_fraction,
        p_value=p.leak_p,
        features=features,
    )
