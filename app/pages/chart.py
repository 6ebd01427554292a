"""The report chart's data: every series on one x axis (epochs; steps at their fractional epoch),
as uPlot takes it, with the marks the diagnosis points at.

Built on the server so the page sends only what the screen can show: step losses thinned by
min/max per pixel, the training curve shifted back half an epoch when the lag is at issue, a band
of ± one noise standard deviation around validation, the best epoch, where a premature stop
ended the run, and the epochs whose loss was not a number."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from lossgap_client.probe_report import ProbeReport

from app.analysis.checks.gap import window
from app.analysis.stats import noise_sigma
from app.pages.downsample import thinned_steps
from app.runs.steps import StepTable

LIKELY = 0.5  # a cause at least this likely changes what the chart draws
HALF_EPOCH = 0.5
LAG_CAUSE = "measurement_lag"
OVERFIT_CAUSE = "overfitting"
EARLY_STOP_CAUSE = "premature_early_stopping"
LOSSES = ("train_loss", "val_loss")
GAP_SYMPTOMS = ("val_above_train", "val_below_train")  # the late gap the summary speaks of


def _likely(diagnosis: Mapping[str, Any], cause: str) -> bool:
    return any(c["id"] == cause and c["confidence"] >= LIKELY for c in diagnosis["causes"])


def _finite(values: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def _not_a_number(row: Mapping[str, float | None]) -> bool:
    """A loss was logged for this epoch and it was NaN or infinite (absent is not that)."""
    values = (row.get(key) for key in LOSSES)
    return any(v is not None and not math.isfinite(v) for v in values)


def _aligned(series: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, list[Any]]:
    """One sorted x for all series; each series' y at its own x, null elsewhere."""
    xs = np.unique(np.concatenate([x for x, _ in series.values()] or [np.zeros(0)]))
    out: dict[str, list[Any]] = {"x": [round(float(v), 6) for v in xs]}
    for name, (x, y) in series.items():
        column: list[float | None] = [None] * len(xs)
        for position, value in zip(np.searchsorted(xs, x), y, strict=True):
            column[int(position)] = float(value) if math.isfinite(value) else None
        out[name] = column
    return out


def payload(
    epochs: Sequence[Mapping[str, float]], steps: StepTable, diagnosis: Mapping[str, Any]
) -> dict[str, Any]:
    epoch = _finite([row["epoch"] for row in epochs])
    train = _finite([row.get("train_loss") for row in epochs])
    val = _finite([row.get("val_loss") for row in epochs])
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "train": (epoch, train),
        "val": (epoch, val),
    }
    shifted = _likely(diagnosis, LAG_CAUSE)
    if shifted:
        series["train_shifted"] = (epoch - HALF_EPOCH, train)
    finite_val = val[np.isfinite(val)]
    band = noise_sigma(finite_val) if len(finite_val) >= 4 else 0.0
    if band > 0:
        series["val_high"] = (epoch, val + band)
        series["val_low"] = (epoch, val - band)
    thinned = thinned_steps(steps)
    if thinned is not None:
        series["steps"] = (thinned.x, thinned.y)
    best = int(np.nanargmin(val)) if np.isfinite(val).any() else None
    both = epoch[np.isfinite(train) & np.isfinite(val)]
    gap_shown = len(both) and any(
        s["present"] and s["id"] in GAP_SYMPTOMS for s in diagnosis.get("symptoms", [])
    )
    return {
        "gap_region": [float(both[-window(len(both))]), float(both[-1])] if gap_shown else None,
        "data": _aligned(series),
        "best_epoch": float(epoch[best]) if best is not None else None,
        "overfitting_onset": float(epoch[best])
        if best is not None and _likely(diagnosis, OVERFIT_CAUSE)
        else None,
        "stopped_at": float(epoch[-1])
        if len(epoch) and _likely(diagnosis, EARLY_STOP_CAUSE)
        else None,
        "nonfinite": [float(row["epoch"]) for row in epochs if _not_a_number(row)],
        "band": round(band, 6),
        "shifted": shifted,
        "steps_shown": len(series["steps"][0]) if "steps" in series else 0,
        "steps_total": thinned.kept_from if thinned is not None else 0,
    }


def overlay(
    names: Sequence[str], histories: Sequence[Sequence[Mapping[str, float]]]
) -> dict[str, Any]:
    """Several runs' curves on one epoch axis: `train 0`, `val 0`, `train 1` …"""
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for index, epochs in enumerate(histories):
        epoch = _finite([row["epoch"] for row in epochs])
        series[f"train {index}"] = (epoch, _finite([row.get("train_loss") for row in epochs]))
        series[f"val {index}"] = (epoch, _finite([row.get("val_loss") for row in epochs]))
    return {"data": _aligned(series), "names": list(names)}


NULL_POINTS = 200
NULL_SPAN_SD = 4.0  # the null density is drawn this many standard deviations either side


def probe_charts(probe: ProbeReport | None) -> dict[str, Any]:
    """The re-evaluation's two small charts: the shuffled-split test's null distribution (normal,
    from the permutations' mean and spread) with the observed validation mean, and the splits'
    per-sample loss histograms as shares of each split."""
    out: dict[str, Any] = {}
    split = probe.shuffled_split if probe else None
    if split is not None and split.null_sd > 0:
        low = min(split.null_mean - NULL_SPAN_SD * split.null_sd, split.val_mean)
        high = max(split.null_mean + NULL_SPAN_SD * split.null_sd, split.val_mean)
        x = np.linspace(low, high, NULL_POINTS)
        density = np.exp(-0.5 * ((x - split.null_mean) / split.null_sd) ** 2) / (
            split.null_sd * math.sqrt(2 * math.pi)
        )
        out["null"] = {
            "x": [round(float(v), 6) for v in x],
            "density": [round(float(v), 6) for v in density],
            "observed": split.val_mean,
        }
    histograms = probe.histograms if probe else None
    if histograms is not None:
        shares = {
            name: (np.array(counts, float) / max(sum(counts), 1)).round(5).tolist()
            for name, counts in (("train", histograms.train), ("val", histograms.val))
        }
        out["histograms"] = {"edges": histograms.edges, **shares}
    return out
