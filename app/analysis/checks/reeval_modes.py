"""What training-time behaviour adds to the reported training loss (re-evaluation items 1-4).

reported train - val = (reported train - train in eval mode) + (train in eval mode - val). A
large first part that the train-mode passes reproduce is dropout, batch norm or label smoothing
at work; the dropout-only and batch-norm-only passes say which; scoring the raw (un-augmented)
training inputs says how much augmentation adds.
"""

import numpy as np

from app.analysis import probe as probes
from app.analysis.curves import Curves
from app.analysis.finding import Finding

CHECK = "reeval_modes"
FEATURES = (
    "pr_present",
    "pr_train_time",
    "pr_train_time_sig",
    "pr_train_mode",
    "pr_dropout_effect",
    "pr_bn_effect",
    "pr_has_dropout",
    "pr_has_bn",
    "pr_aug_effect",
    "pr_aug_sig",
    "pr_val_train_mode",
    "pr_smoothing",
)


def _rel(value: float | None, scale: float) -> float:
    return float(np.clip(value / scale, -3, 3)) if value is not None else 0.0


def check(c: Curves) -> Finding:
    p = probes.read(c.probe)
    if p is None:
        return probes.not_reevaluated(CHECK, FEATURES)
    s = p.scale
    train_mode = p.train_train_mode - p.train_eval if p.train_train_mode is not None else None
    dropout = (
        p.dropout_only - p.train_eval
        if p.dropout_only is not None
        else (train_mode if p.has_dropout and not p.has_batchnorm else None)
    )
    batchnorm = (
        p.batchnorm_only - p.train_eval
        if p.batchnorm_only is not None
        else (train_mode if p.has_batchnorm and not p.has_dropout else None)
    )
    val_mode = p.val_train_mode - p.val_eval if p.val_train_mode is not None else None
    features = {
        "pr_present": 1.0,
        "pr_train_time": _rel(p.train_time[0] if p.train_time else None, s),
        "pr_train_time_sig": float(p.train_time is not None and p.train_time[1] > 0),
        "pr_train_mode": _rel(train_mode, s),
        "pr_dropout_effect": _rel(dropout, s),
        "pr_bn_effect": _rel(batchnorm, s),
        # Dropout that changes the loss: modules built with p=0 are no regularization.
        "pr_has_dropout": float(p.dropout_active),
        "pr_has_bn": float(p.has_batchnorm),
        "pr_aug_effect": _rel(p.augmentation[0] if p.augmentation else None, s),
        "pr_aug_sig": float(p.augmentation is not None and p.augmentation[1] > 0),
        "pr_val_train_mode": _rel(val_mode, s),
        "pr_smoothing": float(p.label_smoothing > 0),
    }
    parts = [f"training set in eval mode scores {p.train_eval:.4g}, validation {p.val_eval:.4g}"]
    if p.train_time and p.reported_train is not None:
        value, low, high = p.train_time
        parts.append(
            f"the reported training loss ({p.reported_train:.4g}) is {value:+.3g} "
            f"(95% CI {low:+.3g} to {high:+.3g}) above the eval-mode score"
        )
    if dropout is not None and p.has_dropout:
        parts.append(f"dropout on adds {dropout:+.3g}")
    if batchnorm is not None and p.has_batchnorm:
        parts.append(f"batch norm on batch statistics adds {batchnorm:+.3g}")
    if p.augmentation:
        parts.append(f"augmented inputs score {p.augmentation[0]:+.3g} worse than the raw ones")
    flagged = bool(p.train_time and p.train_time[1] > 0.1 * s) or bool(
        p.augmentation and p.augmentation[1] > 0.1 * s
    )
    return Finding(
        CHECK,
        "flagged" if flagged else "passed",
        "; ".join(parts),
        statistic=p.train_time[0] if p.train_time else None,
        features=features,
    )
