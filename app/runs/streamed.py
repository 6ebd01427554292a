"""A run's JSON body read so that per-step rows never exist as Python objects all at once.

`json.loads` of a million tiny step rows builds a million dicts (and pydantic a million more):
a body costs 20-55 times its size in memory. Here the stdlib's own scanner reads the body value
by value (so NaN, Infinity and every error message stay those of `json.loads`), but the rows of
a top-level `steps` array are taken a batch at a time and turned into numpy columns, holding
about 9 bytes per value instead of ~100. Everything else in the body is read as `json.loads`
would. Rows that are not regular step rows (a missing or fractional `step`, no loss key, a value
that is not a number) stop the conversion: the first such row is kept with its index, so the
request fails with the message and field that validating every row would have given.
"""

import json
import math
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.runs.steps import LOSS_KEYS, MAX_STEP, Column, values_column

ROW_BATCH = 4096  # rows held as dicts at once
_NUMBERS = (int, float)
_VALUE_TYPES = {int, float, type(None)}
_MAX_INT = 2**1023  # a larger integer is not a float64: such a row is left to the validator
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# The C scanner json.loads itself uses (JSONDecoder sets it in __init__; typeshed omits it).
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


@dataclass(frozen=True)
class BadRow:
    index: int
    row: Any


@dataclass(frozen=True)
class StreamedSteps:
    """Step rows already in columns; or the first row that is not a regular step row."""

    rows: int
    step: np.ndarray = field(default_factory=lambda: np.zeros(0))
    columns: dict[str, Column] = field(default_factory=dict)
    keys: frozenset[str] = frozenset()  # every key seen (all of them, when there are too many)
    bad: BadRow | None = None


def loads(body: bytes, max_keys: int) -> Any:
    """`json.loads(body)`, except that a top-level object's `steps` rows are `StreamedSteps`."""
    text = body.decode(json.detect_encoding(body), "surrogatepass")
    start = _skip(text, 0)
    if text[start : start + 1] != "{":
        return json.loads(text)  # not a run's body: validation says what is wrong with it
    document, end = _object(text, start + 1, max_keys)
    end = _skip(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return document


def _skip(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index


def _value(text: str, index: int) -> tuple[Any, int]:
    try:
        return _scan(text, index)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None


def _object(text: str, index: int, max_keys: int) -> tuple[dict[str, Any], int]:
    document: dict[str, Any] = {}
    index = _skip(text, index)
    if text[index : index + 1] == "}":
        return document, index + 1
    while True:
        if text[index : index + 1] != '"':
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, index
            )
        key, index = _value(text, index)
        index = _skip(text, index)
        if text[index : index + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
        index = _skip(text, index + 1)
        if key == "steps" and text[index : index + 1] == "[":
            document[key], index = _rows(text, index + 1, max_keys)
        else:
            document[key], index = _value(text, index)
        index = _skip(text, index)
        delimiter = text[index : index + 1]
        if delimiter == "}":
            return document, index + 1
        if delimiter != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
        index = _skip(text, index + 1)


def _rows(text: str, index: int, max_keys: int) -> tuple[StreamedSteps | list[Any], int]:
    columns = _Columns(max_keys)
    batch: list[Any] = []
    index = _skip(text, index)
    if text[index : index + 1] == "]":
        return [], index + 1
    while True:
        row, index = _value(text, index)
        batch.append(row)
        if len(batch) == ROW_BATCH:
            columns.add(batch)
            batch = []
        index = _skip(text, index)
        delimiter = text[index : index + 1]
        if delimiter == "]":
            columns.add(batch)
            return columns.result(), index + 1
        if delimiter != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
        index = _skip(text, index + 1)


def _irregular(row: Any) -> bool:
    """Whether `row` is anything but a step row the columns can hold as sent."""
    if type(row) is not dict:
        return True
    step = row.get("step")
    if type(step) is int:
        if not 0 <= step < MAX_STEP:
            return True
    elif type(step) is not float or not (step.is_integer() and 0 <= step < MAX_STEP):
        return True
    if not any(key in row for key in LOSS_KEYS):
        return True
    return any(
        value is not None
        and (type(value) not in _NUMBERS or (type(value) is int and abs(value) >= _MAX_INT))
        for value in row.values()
    )


class _Columns:
    """Rows appended batch by batch to growable per-key buffers of values and presence flags
    (`array` grows in place, so no second copy of a column is ever made)."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self.rows = 0
        self.step = array("d")
        self.values: dict[str, array[float]] = {}
        self.present: dict[str, array[int]] = {}
        self.keys: set[str] = {"step"}
        self.bad: BadRow | None = None

    def add(self, batch: list[Any]) -> None:
        if self.bad is not None or len(self.keys) > self.max_keys or not batch:
            return  # the request already fails: the rest is only read for its syntax
        columns = _regular(batch)
        if columns is None:
            index = next(i for i, row in enumerate(batch) if _irregular(row))
            self.bad = BadRow(self.rows + index, batch[index])
            return
        self.keys.update(columns)
        if len(self.keys) > self.max_keys:
            return
        for key in columns.keys() - self.values.keys() - {"step"}:
            self.values[key] = array("d", np.full(self.rows, math.nan).tobytes())
            self.present[key] = array("b", bytes(self.rows))
        self.step.frombytes(columns["step"].values.tobytes())
        for key, values in self.values.items():
            column = columns.get(key)
            if column is None:
                values.frombytes(np.full(len(batch), math.nan).tobytes())
                self.present[key].frombytes(bytes(len(batch)))
            else:
                values.frombytes(column.values.tobytes())
                self.present[key].frombytes(column.mask().tobytes())
        self.rows += len(batch)

    def result(self) -> StreamedSteps:
        if self.bad is not None or len(self.keys) > self.max_keys:
            return StreamedSteps(self.rows, keys=frozenset(self.keys), bad=self.bad)
        columns = {}
        for key in sorted(self.values):
            present = np.frombuffer(self.present[key], dtype=bool)
            values = np.frombuffer(self.values[key], dtype=np.float64)
            columns[key] = Column(values, None if present.all() else present)
        step = np.frombuffer(self.step, dtype=np.float64)
        return StreamedSteps(self.rows, step, columns, frozenset(self.keys))


def _regular(batch: list[Any]) -> dict[str, Column] | None:
    """The batch's columns, or None when some row is irregular (checked a column at a time;
    `_irregular` then finds which row)."""
    if any(type(row) is not dict for row in batch):
        return None
    if not all("train_loss" in row or "val_loss" in row for row in batch):
        return None
    keys: set[str] = set().union(*batch)
    if "step" not in keys:
        return None
    columns = {}
    for key in keys:
        raw = [row.get(key) for row in batch]
        kinds = set(map(type, raw))
        if not kinds <= _VALUE_TYPES or (key == "step" and type(None) in kinds):
            return None
        try:
            columns[key] = values_column(raw)
        except OverflowError:  # an integer beyond float64
            return None
    step = columns["step"].values
    if not bool(np.all((step >= 0) & (step < MAX_STEP) & (step == np.floor(step)))):
        return None
    return columns
