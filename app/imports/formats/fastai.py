"""fastai CSVLogger `history.csv` (v1 and v2, `append=True`): every `fit` call writes the header
again and restarts `epoch` at 0, `#na#` marks a missing validation, `time` is mm:ss, and a row
may have fewer cells than the header. Stages are joined in file order and epochs renumbered
1, 2, …; rows are mapped to header names by position."""

import csv
import io
from collections.abc import Mapping
from typing import Any

from app.imports.parsed import Parsed, ParseError
from app.imports.table import epoch_rows

NAME = "fastai_csv"


def sniff(text: str, filename: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    header = [c.strip() for c in first.split(",")]
    return header[:3] == ["epoch", "train_loss", "valid_loss"]


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    header: list[str] = []
    records: list[dict[str, Any]] = []
    stages = short = 0
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        cells = [c.strip() for c in row]
        if not cells or not any(cells):
            continue
        if cells[0] == "epoch":
            header, stages = cells, stages + 1
            continue
        if not header:
            raise ParseError("data before the first header line")
        if len(cells) != len(header):
            short += 1
        records.append(dict(zip(header, cells, strict=False)))
    if not records:
        raise ParseError("no data rows")
    notes = []
    if stages > 1:
        notes.append(f"{stages} training stages (header repeated): joined and renumbered")
    if short:
        notes.append(
            f"{short} rows have a different number of cells than the header; cells were "
            "mapped by position"
        )
    for record in records:
        record.pop("epoch", None)
    rows, mapping = epoch_rows(records, [float(i + 1) for i in range(len(records))], overrides)
    return Parsed(NAME, rows, mapping=mapping, notes=notes)
