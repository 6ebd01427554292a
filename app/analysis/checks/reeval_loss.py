"""The loss recomputed from the checkpoint, and labels the model rejects
(re-evaluation items 8 and 9).

A reported loss far from the recomputed one (by a constant factor such as the batch size) means
the loss is computed differently from how the model scores; a training set holding many more
samples whose label the model finds far less likely than the class it predicts (in regression,
misses by a gross residual) than the validation set means label noise.
"""

import numpy as np
from lossgap_client.probe_report import GROSS_RESIDUAL_SCALES, REJECTED_SHARE

from app.analysis import probe as probes
from app.analysis.curves import Curves
from app.analysis.finding import Finding

CHECK = "reeval_loss"
FEATURES = ("pr_train_logratio", "pr_val_logratio", "pr_noise_train", "pr_noise_excess")
REJECTED = {  # how the probe counted a label the model rejects
    "confident_wrong": "are confidently assigned to another class than their label",
    "rejected_label": f"have a label the model finds at most {REJECTED_SHARE:.2g} times as likely "
    "as the class it predicts",
    "gross_residual": "miss their target by more than "
    f"{GROSS_RESIDUAL_SCALES:g} robust scales of the residuals",
}


def rejected_labels(p: probes.Probe) -> str:
    """How many training and validation labels the model rejects, in the probe's own terms."""
    return (
        f"{p.noise_train or 0.0:.1%} of training samples vs {p.noise_val or 0.0:.1%} of "
        "validation samples " + REJECTED.get(p.noise_measure or "", REJECTED["confident_wrong"])
    )


def check(c: Curves) -> Finding:
    p = probes.read(c.probe)
    if p is None:
        return probes.not_reevaluated(CHECK, FEATURES)
    train_ratio, val_ratio = p.train_log_ratio or 0.0, p.val_log_ratio or 0.0
    # Labels rejected by a model that predicts nothing are its own errors, and an excess the
    # draw of the samples leaves is no more than that: no excess measured.
    noise = p.rejected_excess if p.predicts and p.rejections_clear() else 0.0
    features = {
        "pr_train_logratio": float(np.clip(abs(train_ratio) / 2, 0, 3)),
        "pr_val_logratio": float(np.clip(abs(val_ratio) / 2, 0, 3)),
        "pr_noise_train": p.noise_train or 0.0,
        "pr_noise_excess": float(np.clip(noise, -1, 1)),
    }
    parts = []
    if p.train_log_ratio is not None:
        parts.append(f"the reported training loss is {np.exp(train_ratio):.3g}x the recomputed one")
    if p.val_log_ratio is not None:
        parts.append(f"the reported validation loss {np.exp(val_ratio):.3g}x")
    if p.noise_train is not None and p.noise_val is not None:
        parts.append(rejected_labels(p))
    flagged = abs(train_ratio) > 0.7 or abs(val_ratio) > 0.7 or noise > 0.05
    return Finding(
        CHECK,
        "flagged" if flagged else "passed",
        "; ".join(parts) or "no reported losses to compare with",
        statistic=train_ratio,
        features=features,
    )
