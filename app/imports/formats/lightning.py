"""PyTorch Lightning CSVLogger `metrics.csv`: sparse rows keyed by `epoch` and `step`.

Step-level values (`*_step`, or a `train_loss` logged with `on_step`) become step rows; epoch
rows take `*_epoch` values, else the epoch mean of the step losses, and the first validation
value of the epoch. Rows written by `trainer.validate()`/`test()` after the fit (an epoch with
no training value past the last trained one) and `test_*` columns are left out and noted.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from app.imports.mapping import resolve
from app.imports.parsed import Parsed, ParseError, Row
from app.imports.table import ZERO_BASED, columns_of, number

NAME = "lightning_csv"


def sniff(text: str, filename: str) -> bool:
    header = [c.strip() for c in text.lstrip("\ufeff").split("\n", 1)[0].split(",")]
    return "epoch" in header and "step" in header and "_step" not in header


def _train_step_column(columns: list[str]) -> str | None:
    for name in ("train_loss_step", "train_loss", "loss_step", "loss"):
        if name in columns:
            return name
    return None


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    records = [{k.strip(): v for k, v in r.items() if k is not None} for r in reader]
    if not records:
        raise ParseError("no rows")
    columns = list(records[0])
    notes: list[str] = []
    test_columns = [c for c in columns if c.startswith("test_")]
    if test_columns:
        notes.append(f"ignored test metrics: {', '.join(test_columns)}")
    step_column = _train_step_column(columns)
    has_epoch_loss = any(c in columns for c in ("train_loss_epoch", "loss_epoch"))
    step_level = {c for c in columns if c.endswith("_step") and c != "step"}
    if step_column and not has_epoch_loss:
        step_level.add(step_column)
    by_epoch: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for logged in records:
        number_ = number(logged.get("epoch"))
        if number_ is not None:
            by_epoch[int(number_)].append(logged)
    if not by_epoch:
        raise ParseError("no row has an epoch")
    trained = [e for e, rs in by_epoch.items() if any(_has_train(r, columns) for r in rs)]
    last_trained = max(trained) if trained else max(by_epoch)
    dropped = sorted(e for e in by_epoch if e > last_trained)
    if dropped:
        notes.append(
            f"left out rows of epoch {', '.join(map(str, dropped))} after the last trained "
            "epoch (trainer.validate()/test() runs)"
        )
    epoch_columns = [
        c
        for c in columns
        if c not in ("epoch", "step") and c not in step_level and c not in test_columns
    ]
    values: list[dict[str, Any]] = []
    steps: list[Row] = []
    ends = {
        e: max((s for s in (number(r.get("step")) for r in rs) if s is not None), default=0.0)
        for e, rs in by_epoch.items()
    }
    previous_end = -1.0
    for epoch in sorted(e for e in by_epoch if e <= last_trained):
        rows = by_epoch[epoch]
        record: dict[str, Any] = {}
        for column in epoch_columns:
            found = [number(r.get(column)) for r in rows]
            found = [v for v in found if v is not None]
            if found:
                record[column] = found[0]
        stepped = [
            (number(r.get("step")), number(r.get(step_column)))
            for r in rows
            if step_column and number(r.get(step_column)) is not None
        ]
        start, end = previous_end + 1, ends[epoch]
        previous_end = end
        if step_column in step_level and stepped:
            if not has_epoch_loss:
                losses = [v for _, v in stepped if v is not None]
                record["train_loss"] = float(np.mean(losses))
            for s, v in stepped:
                if s is None:
                    continue
                fraction = min((s - start + 1) / (end - start + 1), 1.0) if end >= start else 1.0
                steps.append({"step": s, "epoch": epoch + fraction, "train_loss": v})
        values.append({"epoch": epoch + 1, **record})
    if step_column in step_level and not has_epoch_loss and steps:
        notes.append(f"epoch training loss is the epoch mean of the logged `{step_column}` steps")
    mapping = resolve([c for c in columns_of(values) if c != "epoch"], overrides)
    rename = {column: role for role, column in mapping.items()}
    epochs = [
        {rename.get(k, k): v for k, v in record.items()}
        for record in values
        if any(rename.get(k) in ("train_loss", "val_loss") for k in record)
        or "train_loss" in record
    ]
    notes.append(ZERO_BASED)
    return Parsed(NAME, epochs, steps, mapping=mapping, notes=notes)


def _has_train(record: Mapping[str, Any], columns: list[str]) -> bool:
    return any(
        number(record.get(c)) is not None
        for c in columns
        if c.startswith(("train", "loss")) and not c.startswith("test")
    )
