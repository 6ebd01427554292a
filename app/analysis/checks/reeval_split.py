"""Is the validation split like the training split? (Re-evaluation items 4, 5 and 7.)

An easier validation set scores better than the training set even in eval mode, and better than
random splits of the pooled samples (the shuffled-split permutation test); a classifier can tell
the splits apart. Preprocessing that differs between the splits shows as shifted feature means
and scales and an adversarial AUC near 1, with validation scoring far worse than random splits.
"""

import numpy as np

from app.analysis import probe as probes
from app.analysis.curves import Curves
from app.analysis.finding import Finding
from app.analysis.wording import pvalue

CHECK = "reeval_split"
FEATURES = (
    "pr_eval_gap",
    "pr_eval_gap_pos",
    "pr_eval_gap_neg",
    "pr_perm_z",
    "pr_adv_auc",
    "pr_label_shift",
    "pr_feat_shifted",
    "pr_scale",
    "pr_mean_shift",
)


def label_shift(p: probes.Probe, label_p: float) -> str:
    """How the splits' labels (or a regression's targets) differ in distribution, in words."""
    return (
        f"the splits' {'labels' if p.classifies else 'targets'} differ in distribution "
        f"with {pvalue(label_p)}"
    )


def check(c: Curves) -> Finding:
    p = probes.read(c.probe)
    if p is None:
        return probes.not_reevaluated(CHECK, FEATURES)
    value, low, high = p.eval_gap
    auc = p.adversarial_auc
    shifted = p.shifted_share
    features = {
        "pr_eval_gap": float(np.clip(value / p.scale, -3, 3)),
        "pr_eval_gap_pos": float(low > 0),
        "pr_eval_gap_neg": float(high < 0),
        "pr_perm_z": float(np.clip((p.perm_z or 0.0) / 5, -3, 3)),
        "pr_adv_auc": float(np.clip(2 * ((auc or 0.5) - 0.5), 0, 1)),
        "pr_label_shift": float(p.label_p is not None and p.label_p < probes.LABEL_SHIFT_P),
        "pr_feat_shifted": shifted,
        "pr_scale": float(np.clip(p.median_log_scale, 0, 3)),
        "pr_mean_shift": float(np.clip(p.max_mean_shift / 5, 0, 3)),
    }
    parts = [
        f"in eval mode the training set scores {value:+.3g} vs validation "
        f"(95% CI {low:+.3g} to {high:+.3g})"
    ]
    if p.perm_z is not None and p.perm_p is not None:
        parts.append(
            f"validation's mean loss is {p.perm_z:+.1f} SD from random splits "
            f"(permutation {pvalue(p.perm_p)})"
        )
    if auc is not None:
        parts.append(f"a classifier tells the splits apart with AUC {auc:.2f}")
    if p.features_tested:
        parts.append(
            f"{p.features_shifted} of {p.features_tested} input features shift "
            f"(largest mean shift {p.max_mean_shift:.2g} SD)"
        )
    if p.label_p is not None:
        parts.append(label_shift(p, p.label_p))
    flagged = (auc is not None and auc > 0.75) or (
        p.perm_p is not None and p.perm_p < 0.01 and low > 0
    )
    return Finding(
        CHECK,
        "flagged" if flagged else "passed",
        "; ".join(parts),
        statistic=auc,
        features=features,
    )
