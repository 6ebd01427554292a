"""Gap size and significance against the noise of the validation curve.

The validation loss's standard error comes from its epoch-to-epoch residuals (second
differences) and, when the set's size is known (`val_size`, or the lattice k/n its accuracies
sit on), from the sampling error of a mean loss over that many samples (per-sample losses of a
classifier spread about as much as their mean). A curve too short to show its own noise gets a
deliberately wide standard error, so that three epochs can never make a gap look like twenty
standard errors.
"""

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.analysis import probe as probes
from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.result import CheckStatus
from app.analysis.stats import noise_sigma

FEATURES = (
    "gap_rel",
    "gap_z",
    "gap_within_noise",
    "gap_first_rel",
    "gap_below_frac",
    "val_noise_rel",
    "gap_track",
)
MAX_WINDOW = 5  # epochs averaged at each end of the run
MIN_NOISE_POINTS = 6  # fewer validation losses cannot show their own noise
SHORT_RUN_SE = 0.1  # the standard error then assumed, as a share of the loss level
SE_FLOOR = 1e-3  # a standard error is never below this share of the loss level (rounded logs)
SIGNIFICANT_Z = 2.0
# A validation accuracy is a count over the set: k/n. Logs rarely state n, but a small set shows
# it: every reported accuracy sits on the lattice of multiples of 1/n. Only small sets matter
# (their sampling error is what the size is needed for), and enough distinct values must agree
# that a lattice found is no coincidence. A value printed with four decimals sits within the
# tolerance below of a multiple of 1/n with probability 2 x max(0.001, 0.00005 n): five unrelated
# values do for some n up to 200 about once in ten million. A small set shows few distinct
# values (a 36-sample set gave 7 over 120 epochs; at the former bar of 8 its size went unread
# and a run logged without config read "overfitting, 65%" on a rise of 0.013 its set cannot
# resolve).
MAX_LATTICE = 200
MIN_LATTICE_VALUES = 5
LATTICE_TOLERANCE = 1e-3  # of a count: float32 and printed digits blur k/n a little
PRINTED_DIGITS = 5e-5  # half the last digit of an accuracy printed with four decimals
# Accuracies printed with one or two decimals (or as whole percents) sit on a lattice of the
# printing, not of the set: no size is read from them.
PRINTED_LATTICES = frozenset({10, 100})


@dataclass(frozen=True)
class GapMeasure:
    """Validation minus training loss averaged over a window of epochs, with its standard
    error, and the loss level it is relative to."""

    gap: float
    se: float
    epochs: int
    level: float

    @property
    def z(self) -> float:
        return self.gap / self.se

    @property
    def relative(self) -> float:
        return self.gap / self.level


def window(n: int) -> int:
    return max(1, min(MAX_WINDOW, n // 3))


def val_sigma(c: Curves) -> float | None:
    """Epoch-to-epoch noise of the validation loss; None when the curve is too short."""
    va = c.val[c.both]
    return noise_sigma(va) if len(va) >= MIN_NOISE_POINTS else None


def validation_size(c: Curves) -> float | None:
    """The validation set's sample count: config `val_size` when stated, else the samples a
    re-evaluation scored when it scored the whole set (counted, not sent: a config without
    `val_size` on a 25-sample validation set had a gap within that set's sampling error left to
    noisy labels, the small set unnamed), else the lattice its accuracies sit on."""
    size = c.config.get("val_size")
    if isinstance(size, int | float) and not isinstance(size, bool) and size > 0:
        return float(size)
    probe = probes.read(c.probe)
    if probe is not None and probe.n_val > 0 and not probe.subsampled:
        return float(probe.n_val)
    if c.val_acc is None:
        return None
    lattice = accuracy_lattice(c.val_acc)
    return float(lattice) if lattice is not None else None


def accuracy_lattice(accuracy: np.ndarray) -> int | None:
    """The smallest n (up to MAX_LATTICE) such that every accuracy is a multiple of 1/n, when
    at least MIN_LATTICE_VALUES distinct accuracies say so; None otherwise."""
    values = np.unique(accuracy[np.isfinite(accuracy)])
    if len(values) < MIN_LATTICE_VALUES or values[0] < 0 or values[-1] > 1:
        return None
    n = np.arange(2, MAX_LATTICE + 1, dtype=float)[:, None]
    counts = values[None, :] * n
    tolerance = np.maximum(LATTICE_TOLERANCE, PRINTED_DIGITS * n)
    fits = np.all(np.abs(counts - np.round(counts)) <= tolerance, axis=1)
    if not fits.any():
        return None
    size = int(n[np.argmax(fits), 0])
    return None if size in PRINTED_LATTICES else size


def _part(n: int, where: Literal["early", "late"]) -> slice:
    k = window(n)
    return slice(0, k) if where == "early" else slice(n - k, None)


def sampling_se(c: Curves, where: Literal["early", "late"] = "late") -> float | None:
    """The standard error of a mean loss over the validation set, from its size: a per-sample
    loss spreads about as widely as its mean (cross entropy of a calibrated model), so the
    mean over n samples is known to about mean / sqrt(n)."""
    size = validation_size(c)
    if size is None or int(np.sum(c.both)) < 1:
        return None
    va = c.val[c.both]
    return float(np.mean(np.abs(va[_part(len(va), where)]))) / math.sqrt(size)


def measure(c: Curves, where: Literal["early", "late"] = "late") -> GapMeasure | None:
    if int(np.sum(c.both)) < 2:
        return None
    tr, va = c.train[c.both], c.val[c.both]
    level = c.level()
    k = window(len(va))
    part = _part(len(va), where)
    gap = float(np.mean(va[part] - tr[part]))
    sigma = val_sigma(c)
    se = sigma / math.sqrt(k) if sigma is not None else SHORT_RUN_SE * level
    se = max(se, sampling_se(c, where) or 0.0)
    return GapMeasure(gap, max(se, SE_FLOOR * level), k, level)


def check(c: Curves) -> Finding:
    late = measure(c)
    if late is None:
        return skipped(
            "gap",
            "needs at least two epochs with both train_loss and val_loss",
            dict.fromkeys(FEATURES, 0.0),
        )
    tr, va = c.train[c.both], c.val[c.both]
    level, gap, z = late.level, late.gap, late.z
    sigma = val_sigma(c) or 0.0
    diffs_tr, diffs_va = np.diff(tr), np.diff(va)
    track = 0.0
    if len(diffs_tr) >= 3 and np.std(diffs_tr) > 0 and np.std(diffs_va) > 0:
        track = float(np.corrcoef(diffs_tr, diffs_va)[0, 1])
    features = {
        "gap_rel": float(np.clip(gap / level, -3, 3)),
        # log-compressed: real logs reach z in the hundreds, which says no more than z = 20.
        "gap_z": float(np.sign(z) * np.log1p(min(abs(z), 1e6))) / 3,
        "gap_within_noise": float(abs(z) < SIGNIFICANT_Z),
        "gap_first_rel": float(np.clip((va[0] - tr[0]) / level, -3, 3)),
        "gap_below_frac": float(np.mean(va < tr)),
        "val_noise_rel": float(min(sigma / level, 2.0)),
        "gap_track": track,
    }
    side = "below" if gap < 0 else "above"
    epochs = "the last epoch" if late.epochs == 1 else f"the last {late.epochs} epochs"
    detail = (
        f"over {epochs} validation loss is {abs(gap):.3g} {side} training loss; "
        f"its standard error is {late.se:.2g}, so the gap is {abs(z):.1f} standard errors"
    )
    status: CheckStatus = "flagged" if abs(z) >= SIGNIFICANT_Z else "passed"
    return Finding("gap", status, detail, statistic=gap, features=features)
