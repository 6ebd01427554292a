"""Keras CSVLogger (`epoch,loss,val_loss,…`, 0-based epochs), also the `pandas.to_csv` of a
History (first header cell empty: the row index is the epoch; or `index=False`, no epoch column
at all: rows are epochs 1, 2, … in file order), and a plain `epoch,train_loss,val_loss` CSV."""

import csv
import io
from collections.abc import Mapping

from app.imports.parsed import Parsed, ParseError
from app.imports.table import ZERO_BASED, epoch_rows, number

NAME = "keras_csv"


def _header(text: str) -> list[str]:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return [cell.strip() for cell in first.split(",")]


def sniff(text: str, filename: str) -> bool:
    header = _header(text)
    return "loss" in header and "train/box_loss" not in header


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [cell.strip() for cell in next(reader, [])]
    if not header:
        raise ParseError("the file is empty")
    index_column = header[0] == ""
    epoch_column = "" if index_column else "epoch"
    records = [dict(zip(header, row, strict=False)) for row in reader if row]
    notes = []
    if epoch_column not in header:
        if "loss" not in header:
            raise ParseError("no `epoch` column")
        epoch_column = "epoch"
        for position, record in enumerate(records, start=1):
            record[epoch_column] = str(position)
        notes.append("no epoch column (a History saved with index=False): rows are epochs 1, 2, …")
    raw = [number(r.get(epoch_column)) for r in records]
    if any(e is None for e in raw):
        raise ParseError("an `epoch` cell is not a number")
    epochs = [float(e) for e in raw if e is not None]
    if min(epochs, default=1) == 0:
        epochs = [e + 1 for e in epochs]
        notes.append(ZERO_BASED)
    if index_column:
        notes.append("the unnamed first column (a pandas index) is the epoch")
    for record in records:
        record.pop(epoch_column, None)
    rows, mapping = epoch_rows(records, epochs, overrides)
    return Parsed(NAME, rows, mapping=mapping, notes=notes)
