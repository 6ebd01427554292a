"""A diagnosis for people at a terminal: the curves as sparklines, causes and checks as tables."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

BLOCKS = "▁▂▃▄▅▆▇█"
STATUS_STYLE = {"flagged": "bold yellow", "passed": "green", "skipped": "dim"}


def sparkline(values: Sequence[float | None], low: float, high: float, width: int = 60) -> str:
    """One character per value (or per bucket of values when there are more than `width`)."""
    points = [v if v is not None and math.isfinite(v) else math.nan for v in values]
    if len(points) > width:
        size = len(points) / width
        buckets = [
            points[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)]
            for i in range(width)
        ]
        points = [_mean(b) for b in buckets]
    span = high - low or 1.0
    return "".join(
        " " if math.isnan(v) else BLOCKS[min(int((v - low) / span * (len(BLOCKS) - 1) + 0.5), 7)]
        for v in points
    )


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else math.nan


def curves(epochs: Sequence[Mapping[str, Any]]) -> Table:
    train = [_num(r.get("train_loss")) for r in epochs]
    val = [_num(r.get("val_loss")) for r in epochs]
    finite = [v for v in train + val if v is not None and math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    table = Table.grid(padding=(0, 1))
    for name, values, style in (("train", train, "cyan"), ("val", val, "magenta")):
        last = next((v for v in reversed(values) if v is not None and math.isfinite(v)), None)
        table.add_row(
            Text(name, style="bold"),
            Text(sparkline(values, low, high), style=style),
            Text("-" if last is None else f"{last:.4g}"),
        )
    first = epochs[0].get("epoch") if epochs else None
    last_epoch = epochs[-1].get("epoch") if epochs else None
    table.add_row(
        "",
        Text(f"epochs {first:g} to {last_epoch:g}, scale {low:.3g} to {high:.3g}", style="dim")
        if epochs
        else "",
        "",
    )
    return table


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def render(diagnosis: Mapping[str, Any], epochs: Sequence[Mapping[str, Any]], title: str) -> Group:
    causes = Table(title="Likely causes", title_justify="left", expand=True)
    causes.add_column("confidence", justify="right", width=10)
    causes.add_column("kind", width=8)
    causes.add_column("cause", ratio=2)
    causes.add_column("what to do", ratio=3)
    for cause in diagnosis.get("causes", []):
        kind = cause["kind"]
        causes.add_row(
            f"{cause['confidence']:.0%}",
            Text(kind, style="red" if kind == "problem" else "green"),
            cause["title"],
            (cause.get("actions") or [""])[0],
        )
    checks = Table(title="Checks", title_justify="left", expand=True, show_lines=False)
    checks.add_column("status", width=8)
    checks.add_column("check", width=16)
    checks.add_column("finding", ratio=1)
    for check in diagnosis.get("checks", []):
        checks.add_row(
            Text(check["status"], style=STATUS_STYLE.get(check["status"], "")),
            check["id"],
            check["detail"],
        )
    summary = Panel(Text(diagnosis.get("summary", "")), title=title, title_align="left")
    return Group(summary, curves(epochs), causes, checks)


def show(diagnosis: Mapping[str, Any], epochs: Sequence[Mapping[str, Any]], title: str) -> None:
    Console().print(render(diagnosis, epochs, title))
