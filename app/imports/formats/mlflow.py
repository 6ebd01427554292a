"""An MLflow run: a file-store run folder (`mlruns/<experiment>/<run>/`: `metrics/<name>` files of
`timestamp value step` lines, names with `/` as nested folders, `params/<name>` files), or the
same series pulled from a tracking server (`app/imports/mlflow_server.py`).

Each step is an epoch row (skorch and Ultralytics log once per epoch); a step logged twice keeps
its first value (Ultralytics appends a final validation at the last step). Params with known
names fill the run's config.
"""

import math
from collections.abc import Mapping
from pathlib import Path

from app.imports.companions import config_from
from app.imports.parsed import Parsed, ParseError, Row
from app.imports.table import loss_roles

NAME = "mlflow_run"


def find_run(root: Path) -> Path | None:
    candidates = sorted(p.parent for p in root.rglob("metrics") if p.is_dir())
    return candidates[0] if candidates else None


def _metric(path: Path) -> dict[float, float]:
    values: dict[float, float] = {}
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        try:
            value = float(parts[1])
            step = float(parts[2]) if len(parts) > 2 else 0.0
        except ValueError:
            continue
        values.setdefault(step, value)
    return values


def parse_folder(run: Path, overrides: Mapping[str, str] | None = None) -> Parsed:
    metrics_dir = run / "metrics"
    metrics = {
        str(p.relative_to(metrics_dir)): _metric(p) for p in metrics_dir.rglob("*") if p.is_file()
    }
    params = {
        p.name: p.read_text(errors="replace").strip()
        for p in (run / "params").glob("*")
        if p.is_file()
    }
    return from_series(metrics, params, overrides)


def from_series(
    metrics: Mapping[str, Mapping[float, float]],
    params: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
) -> Parsed:
    """Metric series (step -> value, first value of a repeated step kept) and params."""
    series = {name: v for name, v in metrics.items() if len(v) > 1}
    if not series:
        raise ParseError("the run has no metric logged at more than one step")
    notes = []
    mapping, train_parts, val_parts, note = loss_roles(series, overrides)
    if note:
        notes.append(note)
    rename = {column: role for role, column in mapping.items()}
    steps = sorted({s for v in series.values() for s in v})
    shift = 1.0 if steps and steps[0] == 0 else 0.0
    if shift:
        notes.append("steps are numbered from 0; stored as epochs from 1")
    rows: list[Row] = []
    for step in steps:
        row: Row = {"epoch": step + shift}
        for name, values in series.items():
            if step in values and (name not in train_parts + val_parts or len(train_parts) > 1):
                row[rename.get(name, name)] = values[step]
        for role, parts in (("train_loss", train_parts), ("val_loss", val_parts)):
            if parts and all(step in series[p] for p in parts):
                row[role] = math.fsum(series[p][step] for p in parts)
        if "train_loss" in row or "val_loss" in row:
            rows.append(row)
    config, used = config_from(dict(params))
    if used:
        notes.append(f"config from params: {', '.join(used)}")
    return Parsed(NAME, rows, config=config, mapping=mapping, notes=notes)
