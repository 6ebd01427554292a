"""Turn parsed records (one dict per logged row) into the API's epoch rows.

Shared by the tabular formats: numbers arrive as text (`" 0.163"`, `nan`, `#na#`, padded cells),
the epoch column may start at 0, and every column but the bookkeeping ones is a metric.
"""

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from app.imports.mapping import resolve
from app.imports.parsed import ParseError, Row

MISSING = {"", "#na#", "none", "null", "n/a", "na"}
BOOKKEEPING = {"epoch", "step", "time", "_step", "_runtime", "_timestamp", "global_step"}


DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "bar"}
WHITESPACE = r"\s+"
SNIFF_LINES = 20
MAX_COLUMNS = 2000  # a training log has tens of metrics; thousands of columns are not one
SNIFF_CHARS = 64 * 1024  # the sniffers look at the start of a file, never all of it
DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+(e[-+]?\d+)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Table:
    """A delimited text file read as strings: its header, its rows and the delimiter found."""

    header: list[str]
    records: list[dict[str, str]]
    delimiter: str


def delimiter_of(text: str) -> str:
    """Comma, tab, semicolon or bar, as the csv module's sniffer finds it over the first lines;
    runs of whitespace when none of them splits the header."""
    sample = "\n".join(text[:SNIFF_CHARS].splitlines()[:SNIFF_LINES])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        found = [d for d in DELIMITERS if d in first]
        return found[0] if found else WHITESPACE


def _lines(text: str, count: int) -> list[list[str]]:
    """The first `count` non-blank lines' cells, split as `read_table` would split them."""
    text = text[:SNIFF_CHARS].lstrip("\ufeff")
    lines = [line.strip() for line in text.splitlines()[:SNIFF_LINES] if line.strip()][:count]
    if not lines:
        return []
    delimiter = delimiter_of(text)
    return [
        [
            c.strip().strip('"')
            for c in (
                re.split(WHITESPACE, line) if delimiter == WHITESPACE else line.split(delimiter)
            )
        ]
        for line in lines
    ]


def header_of(text: str) -> list[str]:
    lines = _lines(text, 1)
    return lines[0] if lines else []


def looks_tabular(text: str) -> bool:
    """A header and rows of as many cells, some of them numbers: a table whatever its names."""
    lines = _lines(text, SNIFF_LINES)
    widths = {len(cells) for cells in lines}
    return (
        len(lines) > 1
        and widths == {len(lines[0])}
        and len(lines[0]) > 1
        and any(number(cell) is not None for cell in lines[1])
    )


def read_table(text: str) -> Table:
    """The file as a table of strings (pandas' parser: quoting, padding, ragged rows). A repeated
    header (a log appended to by a resumed run) is dropped; with `;` as delimiter a decimal comma
    (`0,53`) reads as a decimal point."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ParseError("the file is empty")
    width = len(header_of(text))
    if width > MAX_COLUMNS:
        raise ParseError(
            f"the table has {width} columns, more than {MAX_COLUMNS}; send the loss columns only"
        )
    delimiter = delimiter_of(text)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=True,
            engine="python",
            on_bad_lines="skip",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ParseError(f"not a delimited table: {exc}") from exc
    header = [str(c).strip() for c in frame.columns]
    if header and header[0].startswith("Unnamed: 0"):
        header[0] = ""
    frame.columns = pd.Index(header)
    cells = frame.to_dict(orient="records")
    records = [
        {str(k): _decimal(str(v), delimiter) for k, v in row.items()}
        for row in cells
        if [str(v).strip() for v in row.values()] != header
    ]
    return Table(header, records, delimiter)


def _decimal(cell: str, delimiter: str) -> str:
    return cell.replace(",", ".") if delimiter == ";" and DECIMAL_COMMA.match(cell) else cell


def number(value: Any) -> float | None:
    """A float, NaN/inf for the tokens that mean them, None for an empty or placeholder cell."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text.lower() in MISSING:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def columns_of(records: Iterable[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records:
        for key in record:
            seen.setdefault(key, None)
    return list(seen)


def numeric_columns(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Columns with at least one number (so `time` as mm:ss or text columns drop out)."""
    return [
        c
        for c in columns_of(records)
        if c not in BOOKKEEPING and any(number(r.get(c)) is not None for r in records)
    ]


def epoch_rows(
    records: Sequence[Mapping[str, Any]],
    epochs: Sequence[float],
    overrides: Mapping[str, str] | None,
) -> tuple[list[Row], dict[str, str]]:
    """One row per record with the roles renamed; rows without any loss are dropped."""
    metrics = numeric_columns(records)
    mapping = resolve(metrics, overrides)
    rename = {column: role for role, column in mapping.items()}
    rows: list[Row] = []
    for epoch, record in zip(epochs, records, strict=True):
        row: Row = {"epoch": float(epoch)}
        for column in metrics:
            value = number(record.get(column))
            if value is not None:
                row[rename.get(column, column)] = value
        if "train_loss" in row or "val_loss" in row:
            rows.append(row)
    return rows, mapping


ZERO_BASED = "epochs are numbered from 0 in the file; stored from 1"


def last_of_each(rows: list[Row], key: str) -> tuple[list[Row], int]:
    """Rows in `key` order, a number logged twice (a resumed run) keeping its last row; and how
    many earlier rows that replaced."""
    by_number = {row[key]: row for row in rows}
    ordered = [by_number[n] for n in sorted(by_number, key=lambda n: n or 0.0)]
    return ordered, len(rows) - len(ordered)


def loss_roles(
    names: Iterable[str], overrides: Mapping[str, str] | None
) -> tuple[dict[str, str], list[str], list[str], str | None]:
    """The training and validation loss series: the sums of `train/*_loss` and `val/*_loss`
    components (Ultralytics) unless the caller maps roles, else the name mapper's choice.
    Returns the mapping, the training parts, the validation parts and a note."""
    names = sorted(names)
    train = [n for n in names if n.startswith("train/") and n.endswith("_loss")]
    val = [n for n in names if n.startswith("val/") and n.endswith("_loss")]
    if train and val and not overrides:
        mapping = {"train_loss": "+".join(train), "val_loss": "+".join(val)}
        return (
            mapping,
            train,
            val,
            f"train_loss = {' + '.join(train)}; val_loss = {' + '.join(val)}",
        )
    mapping = resolve(names, overrides)
    train = [mapping["train_loss"]] if "train_loss" in mapping else []
    val = [mapping["val_loss"]] if "val_loss" in mapping else []
    return mapping, train, val, None


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
