"""Weights & Biases history export: `wandb-history.jsonl` (one object per `wandb.log` call) or a
history CSV. Values may be strings (`" 0.163"`). With an `epoch` key, rows are grouped by epoch
(validation logs carry the epoch of the training log before them) and averaged; without one,
each validation log is one row whose training loss is the mean of the training logs since the
previous one. Training logs become step rows (`_step`)."""

import csv
import io
import json
import math
from collections.abc import Mapping
from typing import Any

from app.imports.mapping import resolve
from app.imports.parsed import Parsed, ParseError, Row
from app.imports.table import number, numeric_columns

NAME = "wandb_history"


def sniff(text: str, filename: str) -> bool:
    head = text.lstrip()[:4000]
    return '"_step"' in head or head.startswith("_step,") or ",_step," in head.split("\n", 1)[0]


def _records(text: str) -> list[dict[str, Any]]:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        records = []
        for n, line in enumerate(stripped.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ParseError(f"line {n} is not JSON ({exc.msg})") from exc
        return records
    return list(csv.DictReader(io.StringIO(stripped)))


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    records = sorted(_records(text), key=lambda r: number(r.get("_step")) or 0.0)
    if not records:
        raise ParseError("no rows")
    mapping = resolve(numeric_columns(records), overrides)
    train_key, val_key = mapping.get("train_loss"), mapping.get("val_loss")
    if val_key is None:
        raise ParseError("no validation loss column (val_loss, valid_loss, …)")
    rename = {column: role for role, column in mapping.items()}
    metrics = numeric_columns(records)
    notes: list[str] = []
    steps: list[Row] = []
    has_epoch = any(number(r.get("epoch")) is not None for r in records)
    groups: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    epoch: float | None = None
    for record in records:
        value = number(record.get("epoch"))
        if has_epoch and value is not None and value != epoch and current:
            groups.append(current)
            current = []
        epoch = value if value is not None else epoch
        record = {**record, "epoch": epoch}
        current.append(record)
        loss = number(record.get(train_key)) if train_key else None
        step = number(record.get("_step"))
        if loss is not None and step is not None:
            steps.append({"step": step, "train_loss": loss})
        if not has_epoch and number(record.get(val_key)) is not None:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    rows: list[Row] = []
    for index, group in enumerate(groups):
        row: Row = {"epoch": float(index + 1)}
        for column in metrics:
            values = [v for v in (number(r.get(column)) for r in group) if v is not None]
            if values:
                row[rename.get(column, column)] = math.fsum(values) / len(values)
        if "train_loss" in row or "val_loss" in row:
            rows.append(row)
    if has_epoch:
        notes.append("rows grouped by `epoch`; each epoch's values are the mean of its logs")
    else:
        notes.append(
            "no `epoch` key: each validation log is one row, its training loss the mean of the "
            "training logs since the previous validation log"
        )
    return Parsed(NAME, rows, steps, mapping=mapping, notes=notes)
