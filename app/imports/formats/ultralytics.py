"""Ultralytics `results.csv` (YOLOv5 and YOLOv8): padded header cells, several loss components
(`train/box_loss`, `train/cls_loss`, `train/dfl_loss` or `train/obj_loss`). The training and
validation losses are the sums of their components (as the trainer optimizes them); each
component is kept as a metric."""

import csv
import io
from collections.abc import Mapping

from app.imports.parsed import Parsed, ParseError, Row
from app.imports.table import ZERO_BASED, number

NAME = "ultralytics_csv"


def sniff(text: str, filename: str) -> bool:
    header = [c.strip() for c in text.lstrip("\ufeff").split("\n", 1)[0].split(",")]
    return "epoch" in header and any(c.startswith("train/") and c.endswith("_loss") for c in header)


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [c.strip() for c in next(reader, [])]
    if "epoch" not in header:
        raise ParseError("no `epoch` column")
    train_parts = [c for c in header if c.startswith("train/") and c.endswith("_loss")]
    val_parts = [c for c in header if c.startswith("val/") and c.endswith("_loss")]
    records = [dict(zip(header, (c.strip() for c in row), strict=False)) for row in reader if row]
    epochs = [number(r["epoch"]) for r in records]
    if any(e is None for e in epochs):
        raise ParseError("an `epoch` cell is not a number")
    shift = 1.0 if min(e for e in epochs if e is not None) == 0 else 0.0
    rows: list[Row] = []
    for epoch, record in zip(epochs, records, strict=True):
        assert epoch is not None
        row: Row = {"epoch": epoch + shift}
        for column in header:
            value = number(record.get(column))
            if column not in ("epoch", "time") and value is not None:
                row[column] = value
        for role, parts in (("train_loss", train_parts), ("val_loss", val_parts)):
            values = [number(record.get(c)) for c in parts]
            if parts and all(v is not None for v in values):
                row[role] = sum(v for v in values if v is not None)
        rows.append(row)
    notes = [
        f"train_loss = {' + '.join(train_parts)}; val_loss = {' + '.join(val_parts)}",
    ]
    if shift:
        notes.append(ZERO_BASED)
    mapping = {"train_loss": "+".join(train_parts), "val_loss": "+".join(val_parts)}
    return Parsed(NAME, rows, mapping=mapping, notes=notes)
