"""Per-step rows held as columns: validation, last-write-wins merging and a compact binary form.

A training run logs up to millions of per-batch losses. Handling them as numpy columns (one int64
array of step numbers and one float64 array per metric, with a presence mask where some rows lack
the key) keeps ingestion, storage and analysis free of per-row Python objects. Absent (or null)
and NaN stay distinct: NaN is a value that was reported, absence is not.
"""

import io
import math
import threading
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass

import numpy as np

from app.errors import InvalidInput
from app.runs.text import problem

MAX_STEP = 2**53
COMPACTION_FANOUT = 8
LOSS_KEYS = ("train_loss", "val_loss")


@dataclass(frozen=True)
class Column:
    values: np.ndarray
    present: np.ndarray | None = None

    def mask(self) -> np.ndarray:
        return np.ones(len(self.values), bool) if self.present is None else self.present


@dataclass(frozen=True)
class StepTable:
    """Rows sorted by unique `step`; every column has one value per row."""

    step: np.ndarray
    columns: dict[str, Column]

    def __len__(self) -> int:
        return len(self.step)

    @property
    def first(self) -> int:
        return int(self.step[0])

    @property
    def last(self) -> int:
        return int(self.step[-1])


def _column(rows: Sequence[dict[str, float | None]], key: str) -> Column:
    return values_column([row.get(key) for row in rows])


def values_column(raw: list[float | None]) -> Column:
    if None not in raw:  # numpy would silently turn None into NaN
        return Column(np.array(raw, dtype=np.float64))
    objects = np.array(raw, dtype=object)
    absent = objects == None  # noqa: E711  (elementwise comparison)
    objects[absent] = math.nan
    return Column(objects.astype(np.float64), ~absent)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def from_rows(
    rows: Sequence[dict[str, float | None]], max_keys: int, first_index: int = 0
) -> StepTable:
    """Validate step rows (already type-checked as numbers or null) and turn them into columns.

    A step number sent twice in one request keeps its last row, as a re-sent row would. Errors
    name a row by its index in the request: `first_index` is that of `rows[0]`.
    """
    keys: set[str] = set().union(*rows)
    _check_keys(keys, max_keys)
    step_col = _column(rows, "step")
    bad = ~step_col.mask()
    if bad.any():
        i = first_index + _first_bad(bad)
        raise InvalidInput(f"steps[{i}].step: every step row needs a `step` number.")
    steps = _whole_steps(step_col.values, lambda i: f"steps[{first_index + i}].step")
    columns = {key: _column(rows, key) for key in sorted(keys - {"step"})}
    _check_has_loss(rows, columns, first_index)
    return _dedupe(steps, columns)


def from_arrays(
    step: np.ndarray, columns: dict[str, Column], keys: Set[str], max_keys: int
) -> StepTable:
    """The same from rows a streaming reader already turned into columns (`app.runs.streamed`),
    each row known to have a whole `step` and a loss key; `keys` are all the keys it saw."""
    _check_keys(set(keys), max_keys)
    steps = _whole_steps(step, lambda i: f"steps[{i}].step")
    return _dedupe(steps, columns)


def from_columns(columns: Mapping[str, list[float | None]], max_keys: int) -> StepTable:
    """The same from the columnar form: one array per key, `step` required, equal lengths.

    It costs a fraction of the row form to send and to parse, for clients logging many steps.
    """
    keys = set(columns)
    _check_keys(keys, max_keys)
    if "step" not in columns:
        raise InvalidInput("steps.step: the columnar form needs a `step` array.")
    if not keys & set(LOSS_KEYS):
        raise InvalidInput("steps: the columnar form needs a `train_loss` or `val_loss` array.")
    n = len(columns["step"])
    for key, values in columns.items():
        if len(values) != n:
            raise InvalidInput(f"steps.{key}: {len(values)} values, but `step` has {n}.")
    step_col = values_column(columns["step"])
    if step_col.present is not None and not step_col.present.all():
        raise InvalidInput(f"steps.step[{_first_bad(~step_col.present)}]: null is not a step.")
    steps = _whole_steps(step_col.values, lambda i: f"steps.step[{i}]")
    return _dedupe(steps, {key: values_column(columns[key]) for key in sorted(keys - {"step"})})


def _check_keys(keys: set[str], max_keys: int) -> None:
    if len(keys) > max_keys:
        raise InvalidInput(
            f"steps: {len(keys)} distinct keys exceed the limit of {max_keys} "
            "(LOSSGAP_MAX_METRICS_PER_ROW); send fewer metrics per step."
        )
    for key in keys:
        _check_key(key, "steps")


def _whole_steps(steps: np.ndarray, where: Callable[[int], str]) -> np.ndarray:
    bad = ~np.isfinite(steps) | (steps < 0) | (steps >= MAX_STEP) | (steps != np.floor(steps))
    if bad.any():
        i = _first_bad(bad)
        raise InvalidInput(
            f"{where(i)}: must be a whole number from 0 to 2**53 (got {steps[i]!r})."
        )
    return steps.astype(np.int64)


def _check_has_loss(
    rows: Sequence[dict[str, float | None]], columns: dict[str, Column], first_index: int
) -> None:
    reported = np.zeros(len(rows), bool)
    for key in LOSS_KEYS:
        if key in columns:
            reported |= columns[key].mask()
    for i in np.flatnonzero(~reported).tolist():  # rows without a loss value; null counts
        if not any(key in rows[i] for key in LOSS_KEYS):
            raise InvalidInput(
                f"steps[{first_index + i}]: each step row needs `train_loss` or `val_loss`."
            )


def _check_key(key: str, where: str) -> None:
    if not key or len(key) > 100:
        raise InvalidInput(f"{where}: metric names must be 1 to 100 characters (got {key!r}).")
    why = problem(key)
    if why is not None:
        raise InvalidInput(f"{where}: the metric name {key!r} {why}.")


def _dedupe(step: np.ndarray, columns: dict[str, Column]) -> StepTable:
    """Sort by step and keep the last occurrence of each step number."""
    order = np.argsort(step, kind="stable")
    sorted_steps = step[order]
    keep = np.ones(len(order), bool)
    keep[:-1] = sorted_steps[1:] != sorted_steps[:-1]
    picked = order[keep]
    if len(picked) == len(step) and bool(np.all(picked == np.arange(len(step)))):
        return StepTable(step, columns)
    return StepTable(
        step[picked],
        {
            name: Column(col.values[picked], None if col.present is None else col.present[picked])
            for name, col in columns.items()
        },
    )


def merge(tables: Sequence[StepTable]) -> StepTable:
    """Union of tables; where a step occurs in several, the row of the later table wins whole."""
    if len(tables) == 1:
        return tables[0]
    names = sorted(set().union(*(t.columns for t in tables)))
    step = np.concatenate([t.step for t in tables])
    columns = {}
    for name in names:
        values, masks = [], []
        for table in tables:
            col = table.columns.get(name)
            if col is None:
                values.append(np.full(len(table), math.nan))
                masks.append(np.zeros(len(table), bool))
            else:
                values.append(col.values)
                masks.append(col.mask())
        mask = np.concatenate(masks)
        columns[name] = Column(np.concatenate(values), None if mask.all() else mask)
    return _dedupe(step, columns)


def concat_disjoint(tables: Sequence[StepTable]) -> StepTable:
    """Join tables whose step ranges are disjoint and given in order (stored chunks)."""
    if not tables:
        return StepTable(np.zeros(0, np.int64), {})
    return merge(tables) if len(tables) > 1 else tables[0]


def to_rows(table: StepTable) -> list[dict[str, int | float]]:
    steps = table.step.tolist()
    if not table.columns:
        return [{"step": s} for s in steps]
    names = list(table.columns)
    values = [table.columns[n].values.tolist() for n in names]
    if all(table.columns[n].present is None for n in names):
        return [
            {"step": s, **dict(zip(names, row, strict=True))}
            for s, *row in zip(steps, *values, strict=True)
        ]
    masks = [table.columns[n].mask().tolist() for n in names]
    rows: list[dict[str, int | float]] = []
    for i, s in enumerate(steps):
        row: dict[str, int | float] = {"step": s}
        for name, vals, mask in zip(names, values, masks, strict=True):
            if mask[i]:
                row[name] = vals[i]
        rows.append(row)
    return rows


def encode(table: StepTable) -> bytes:
    arrays: dict[str, np.ndarray] = {
        "step": table.step,
        "names": np.array(list(table.columns), dtype=str),
    }
    for i, col in enumerate(table.columns.values()):
        arrays[f"v{i}"] = col.values
        if col.present is not None:
            arrays[f"m{i}"] = col.present
    buffer = io.BytesIO()
    # Uncompressed: zlib cost more time than it saved space (Postgres compresses large values
    # itself), and float noise compresses poorly anyway.
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


# numpy reads each array's header with ast.literal_eval, and CPython 3.11's AST constructor keeps
# its recursion depth per interpreter, not per thread: two request threads decoding at once can
# fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905; seen
# in bench/soak.py). Decoding a chunk takes well under a millisecond, so it is serialized.
_DECODING = threading.Lock()


def decode(blob: bytes) -> StepTable:
    with _DECODING, np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        names = [str(n) for n in npz["names"]]
        columns = {
            name: Column(npz[f"v{i}"], npz[f"m{i}"] if f"m{i}" in npz.files else None)
            for i, name in enumerate(names)
        }
        return StepTable(npz["step"], columns)


def plan_compaction(
    chunks: Sequence[tuple[int, int]], fanout: int = COMPACTION_FANOUT, max_rows: int = 1 << 20
) -> list[int] | None:
    """Pick `fanout` chunks adjacent in step order and of the same size tier to merge, or None.

    `chunks` are (id, n_rows) in step order. Tiers grow by `fanout`, so a run streamed in small
    appends is rewritten about log_fanout(total/append) times, not once per append.
    """

    def tier(n: int) -> int:
        return int(math.log(max(n, 1), fanout))

    start = 0
    for i in range(1, len(chunks) + 1):
        if i == len(chunks) or tier(chunks[i][1]) != tier(chunks[start][1]):
            if i - start >= fanout and chunks[start][1] < max_rows // fanout:
                return [chunk_id for chunk_id, _ in chunks[i - fanout : i]]
            start = i
    return None
