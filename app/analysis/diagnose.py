"""The engine's one entry point.

This build measures the gap only: which causes explain it is the cause engine's work, which is not
here yet, and the answer says so instead of guessing.
"""

import numpy as np

from app.analysis.history import History
from app.analysis.result import Check, Diagnosis

ENGINE_VERSION = "0.1.0-gap-summary"


def diagnose(history: History) -> Diagnosis:
    train = history.epoch_metric("train_loss")
    val = history.epoch_metric("val_loss")
    if train is None or val is None:
        missing = "train_loss" if train is None else "val_loss"
        return Diagnosis(
            summary=f"No gap to measure: the run has no {missing} values.",
            checks=(
                Check(
                    "gap_summary",
                    "skipped",
                    f"needs both train_loss and val_loss; {missing} is missing",
                ),
                _engine_pending(),
            ),
        )
    both = train.finite() & val.finite()
    if not both.any():
        return Diagnosis(
            summary="No gap to measure: no epoch has finite train_loss and val_loss together.",
            checks=(
                Check("gap_summary", "skipped", "no epoch with both losses finite"),
                _engine_pending(),
            ),
        )
    epochs = history.epoch[both]
    gaps = val.values[both] - train.values[both]
    last_epoch, last_gap = float(epochs[-1]), float(gaps[-1])
    val_finite = val.finite()
    best = int(np.argmin(np.where(val_finite, val.values, np.inf)))
    gap: dict[str, float | None] = {
        "last_epoch": last_epoch,
        "train_loss": float(train.values[both][-1]),
        "val_loss": float(val.values[both][-1]),
        "val_minus_train": last_gap,
        "mean_val_minus_train": float(np.mean(gaps)),
        "best_val_epoch": float(history.epoch[best]),
        "best_val_loss": float(val.values[best]),
    }
    side = "below" if last_gap < 0 else "above"
    detail = (
        f"at epoch {last_epoch:g} validation loss is {abs(last_gap):.4g} {side} training loss "
        f"({gap['val_loss']:.4g} vs {gap['train_loss']:.4g}); lowest validation loss "
        f"{gap['best_val_loss']:.4g} at epoch {gap['best_val_epoch']:g}"
    )
    return Diagnosis(
        summary=f"Gap summary only: {detail}. Cause analysis is not available in this version, "
        "so no causes are ranked.",
        checks=(Check("gap_summary", "passed", detail, statistic=last_gap), _engine_pending()),
        gap=gap,
    )


def _engine_pending() -> Check:
    return Check(
        "cause_analysis",
        "skipped",
        f"engine {ENGINE_VERSION} measures the gap only; ranked causes come with the cause engine",
    )
