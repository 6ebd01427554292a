"""A history from the JSON a client posts (api.md §1), for `lossgap diagnose FILE.json` and the
benchmarks; the service builds the same History from its database."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from lossgap_client.probe_report import ProbeReport

from app.analysis.history import History, Series


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    return float(value) if isinstance(value, int | float) else math.nan


LOSSES = ("train_loss", "val_loss")


def series_from_rows(
    rows: Sequence[Mapping[str, Any]], skip: str, null_is_nan: Sequence[str] = ()
) -> dict[str, Series]:
    """One Series per key of the rows but `skip`; a key absent or null in a row is not present,
    except that a null of a `null_is_nan` key is a present NaN (a loss that was not a number)."""
    names = sorted({key for row in rows for key in row} - {skip})
    columns = {}
    for name in names:
        if name in null_is_nan:
            present = np.array([name in row for row in rows], dtype=np.bool_)
        else:
            present = np.array([row.get(name) is not None for row in rows], dtype=np.bool_)
        values = np.array([_number(row.get(name)) for row in rows], dtype=np.float64)
        columns[name] = Series(values, present)
    return columns


def history_from_document(document: Mapping[str, Any]) -> History:
    epochs: Sequence[Mapping[str, Any]] = document.get("epochs") or []
    steps: Sequence[Mapping[str, Any]] = document.get("steps") or []
    config = document.get("config") or {}
    return History(
        epoch=np.array([float(row["epoch"]) for row in epochs], dtype=np.float64),
        epoch_series=series_from_rows(epochs, "epoch", null_is_nan=LOSSES),
        step=np.array([int(row["step"]) for row in steps], dtype=np.int64),
        step_series=series_from_rows(steps, "step"),
        config=config if isinstance(config, Mapping) else {},
        task=str(document.get("task", "other")),
        probe=ProbeReport.model_validate(probe)
        if isinstance(probe := document.get("probe"), Mapping)
        else None,
    )
