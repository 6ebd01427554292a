"""How far a re-evaluation is: the stage it is in, by name, and the share of the whole done.

A stage's share is its estimated cost in seconds. Scoring passes cost samples times a per-sample
time that the first pass measures (a large model on a CPU and a small one on a GPU differ by
orders of magnitude); the statistics after them (shuffled split, copy search, split shift) cost
what their size says on a CPU. The share reported never goes back and stays below 1 until the
report is built, and the caller's cancellation check runs at every report.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Reporter = Callable[[float, str], None]
UNTIL_DONE = 0.99  # the report is not built until the last stage returns
FIRST_GUESS_SECONDS_PER_SAMPLE = 2e-5  # a small network on a CPU, until a pass is timed


@dataclass
class Stage:
    key: str
    name: str  # what the user sees: "scoring the validation set"
    units: float  # samples for a scoring pass, 1 for a stage that reports fractions
    seconds_per_unit: float
    scoring: bool = False  # re-estimated from the measured per-sample time


class Progress:
    def __init__(self, stages: Sequence[Stage], report: Reporter, check: Callable[[], None]):
        self.stages = {s.key: s for s in stages}
        self.order = [s.key for s in stages]
        self.report, self.check = report, check
        self.current: Stage | None = None
        self.done_units = 0.0
        self.shown = 0.0

    def _cost(self, stage: Stage) -> float:
        return stage.units * stage.seconds_per_unit

    def _fraction(self) -> float:
        total = sum(self._cost(s) for s in self.stages.values()) or 1.0
        if self.current is None:
            return 0.0
        before = self.order[: self.order.index(self.current.key)]
        done = sum(self._cost(self.stages[k]) for k in before)
        done += min(self.done_units, self.current.units) * self.current.seconds_per_unit
        return done / total

    def _emit(self) -> None:
        self.shown = max(self.shown, min(self._fraction(), UNTIL_DONE))
        self.report(self.shown, self.current.name if self.current else "")
        self.check()

    def start(self, key: str) -> None:
        self.current, self.done_units = self.stages[key], 0.0
        self._emit()

    def tick(self, units: float) -> None:
        """`units` more of the current stage done (samples, or a share of a fractional one)."""
        self.done_units += units
        self._emit()

    def timed(self, key: str, seconds: float) -> None:
        """A scoring pass took `seconds`: every scoring pass is re-estimated at its rate."""
        stage = self.stages[key]
        if stage.scoring and stage.units > 0 and seconds > 0:
            rate = seconds / stage.units
            for other in self.stages.values():
                if other.scoring:
                    other.seconds_per_unit = rate
