"""What the analysis sees of a run: aligned numpy arrays, no database rows or JSON."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from lossgap_client.probe_report import ProbeReport
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Series:
    """One metric's values; `present` is False where a row did not report it (NaN stays NaN)."""

    values: FloatArray
    present: BoolArray

    @classmethod
    def full(cls, values: FloatArray) -> "Series":
        return cls(values, np.ones(len(values), dtype=np.bool_))

    def finite(self) -> BoolArray:
        return self.present & np.isfinite(self.values)


@dataclass(frozen=True)
class History:
    epoch: FloatArray
    epoch_series: Mapping[str, Series]
    step: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    step_series: Mapping[str, Series] = field(default_factory=dict)
    config: Mapping[str, object] = field(default_factory=dict)
    task: str = "other"
    probe: ProbeReport | None = None  # the newest probe report (a re-evaluation), if any

    def epoch_metric(self, name: str) -> Series | None:
        return self.epoch_series.get(name)
