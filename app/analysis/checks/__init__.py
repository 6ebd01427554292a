"""One module per statistical check; each takes the prepared curves and returns a Finding."""

from collections.abc import Callable

from app.analysis.checks import (
    convergence,
    early_stop,
    gap,
    lag,
    loss_scale,
    metrics,
    nonfinite,
    offset,
    overfit,
    progress,
    stability,
)
from app.analysis.curves import Curves
from app.analysis.finding import Finding

CHECKS: tuple[Callable[[Curves], Finding], ...] = (
    nonfinite.check,
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
)
