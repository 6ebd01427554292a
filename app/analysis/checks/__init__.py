"""One module per statistical check; each takes the prepared curves and returns a Finding."""

from collections.abc import Callable

from app.analysis.checks import (
    convergence,
    early_stop,
    failure,
    gap,
    lag,
    loss_scale,
    metrics,
    nonfinite,
    offset,
    overfit,
    progress,
    reeval_leakage,
    reeval_loss,
    reeval_modes,
    reeval_split,
    stability,
)
from app.analysis.curves import Curves
from app.analysis.finding import Finding

CHECKS: tuple[Callable[[Curves], Finding], ...] = (
    nonfinite.check,
    failure.check,
    gap.check,
    lag.check,
    offset.check,
    overfit.check,
    progress.check,
    convergence.check,
    stability.check,
    early_stop.check,
    loss_scale.check,
    metrics.check,
    reeval_modes.check,
    reeval_split.check,
    reeval_leakage.check,
    reeval_loss.check,
)
