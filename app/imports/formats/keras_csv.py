"""Keras CSVLogger (`epoch,loss,val_loss,…`, 0-based epochs), also the `pandas.to_csv` of a
History (first header cell empty: the row index is the epoch; or `index=False`, no epoch column
at all: rows are epochs 1, 2, … in file order), and any delimited table of losses per epoch
(comma, tab, semicolon or whitespace; `epoch`, `Epoch`, `epochs` …)."""

from collections.abc import Mapping

from app.imports.mapping import EPOCH, EPOCH_NAMES, find
from app.imports.parsed import Parsed, ParseError
from app.imports.table import DELIMITERS, ZERO_BASED, epoch_rows, header_of, number, read_table

NAME = "keras_csv"


def sniff(text: str, filename: str) -> bool:
    header = header_of(text)
    return "loss" in header and "train/box_loss" not in header


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    table = read_table(text)
    header, records = table.header, table.records
    index_column = header[0] == ""
    asked = (overrides or {}).get(EPOCH)
    if asked is not None and asked not in header:
        raise ParseError(
            f"the mapping names column {asked!r} for epoch; found: {', '.join(header)}"
        )
    epoch_column = asked or ("" if index_column else find(header, EPOCH_NAMES))
    notes = []
    if table.delimiter != ",":
        notes.append(f"columns separated by {DELIMITERS.get(table.delimiter, 'whitespace')}")
    if epoch_column is None:
        epoch_column = EPOCH
        for position, record in enumerate(records, start=1):
            record[epoch_column] = str(position)
        notes.append(
            "no epoch column (e.g. a History saved with index=False): rows are epochs 1, 2, … "
            "in file order"
        )
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
