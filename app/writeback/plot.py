"""A PNG of a run's loss curves, for the trackers' artifact views. Step losses come thinned as
the report page draws them (`app.pages.downsample`).

A matplotlib `Figure` made directly (not through pyplot) renders with the Agg canvas: no
display, no global state shared between requests."""

import io
import math
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

from app.pages.downsample import Thinned

SERIES = (("train_loss", "training loss"), ("val_loss", "validation loss"))
SIZE_INCHES = (6.4, 3.6)
DPI = 120


def curves_png(
    epochs: Sequence[Mapping[str, float]],
    title: str,
    steps: Thinned | None = None,
    image_format: str = "png",
) -> bytes:
    """The curves as an image: `png` (the default) or `svg`."""
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    axes = figure.subplots()
    if steps is not None and len(steps.x):
        axes.plot(steps.x, steps.y, color="#9aaac0", linewidth=0.6, label="step loss")
    for key, label in SERIES:
        points = [
            (row["epoch"], row[key])
            for row in epochs
            if key in row and row[key] is not None and math.isfinite(row[key])
        ]
        if points:
            x, y = zip(*points, strict=True)
            axes.plot(x, y, marker="o", markersize=2.5, label=label)
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format)
    return buffer.getvalue()
