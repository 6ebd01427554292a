"""The history reduced to what the checks read: aligned epoch curves and the step series.

Non-finite values are counted here and then treated as missing, so every check sees clean
arrays; `numerical_instability` reads the counts.

A loss that legitimately goes below zero (a Gaussian negative log-likelihood, an ELBO) has an
arbitrary zero: its additive constant depends on the units of the data. The checks express gaps,
rises and plateaus relative to the loss, which only means something above a zero the loss
approaches, so such curves are read shifted up by one constant, their lowest value landing at a
quarter of their range above zero: ordinary losses end between a fiftieth (a cross entropy on an
easy set) and a half (a language model) of their range above it, and a floor that high keeps a
gap of a hundredth from reading as a tenth of the loss. Differences between the curves do not
change; `shown` gives the values back as logged, for the words.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from lossgap_client.probe_report import ProbeReport

from app.analysis.config_keys import loss_may_be_negative
from app.analysis.history import BoolArray, FloatArray, History, Series

TRAIN_ACC_KEYS = ("train_accuracy", "train_acc", "accuracy", "acc")
VAL_ACC_KEYS = ("val_accuracy", "val_acc", "valid_accuracy", "eval_accuracy")
# An accuracy curve that goes above this is logged in percent (`100 * correct / total`, as many
# training scripts print it): read as a share, so that a point of accuracy is one everywhere.
PERCENT_ABOVE = 1.5
# A loss that goes negative is read with its lowest value at a quarter of its range: from its
# lowest to where the curves started (one unstable step's loss of 1e6 must not set the scale: it
# would press the rest of the run into a flat line on a high plateau).
REBASED_FLOOR = 0.25
# A step log counts the steps of an epoch where it spans one epoch or more: over less, a log
# whose steps carry whole-epoch positions may misstate them several times.
MIN_STEP_LOG_SPAN = 1.0


@dataclass(frozen=True)
class Curves:
    epoch: FloatArray
    train: FloatArray  # NaN where missing or non-finite
    val: FloatArray
    train_acc: FloatArray | None
    val_acc: FloatArray | None
    both: BoolArray  # epochs with finite train and val
    step_epoch: FloatArray  # fractional epoch of each step row with a finite train loss
    step_loss: FloatArray
    nonfinite_train: int
    nonfinite_val: int
    nonfinite_steps: int
    reported_train: int
    reported_val: int
    config: Mapping[str, object]
    task: str
    probe: ProbeReport | None = None
    offset: float = 0.0  # added to every loss of a run whose loss goes below zero (see above)
    logged_steps_per_epoch: float = 0.0  # counted by the step log's own step numbers; 0: unknown

    def shown(self, value: float) -> float:
        """A loss as the run logged it."""
        return value - self.offset

    @property
    def n(self) -> int:
        return len(self.epoch)

    @property
    def has_steps(self) -> bool:
        return len(self.step_loss) >= 2 * max(int(np.sum(self.both)), 1)

    def batches_per_epoch(self) -> float:
        """train_size / batch_size from the config. A re-evaluation counted the training
        samples it was sent: where the config gives no size, that count (all of the set, or a
        sample of it: never more batches than the epoch had). Where neither says, the step log
        counts them itself (its step numbers over the epochs they span); 0 when nothing does."""
        size, batch = self.config.get("train_size"), self.config.get("batch_size")
        if size is None and self.probe is not None:
            size = self.probe.n_train
        if isinstance(size, bool) or isinstance(batch, bool):
            return 0.0
        if not isinstance(size, int | float) or not isinstance(batch, int | float) or batch <= 0:
            return self.logged_steps_per_epoch if size is None else 0.0
        return float(size) / float(batch)

    def steps(self) -> float:
        """The optimizer steps the run took: batches per epoch x epochs; 0 when unknown."""
        return self.batches_per_epoch() * self.n

    def level(self) -> float:
        """A typical loss magnitude of the run, to express gaps and slopes relatively; never 0
        (a run whose losses are mostly exactly 0 falls back to its largest, then to 1). Taken
        over the epochs that have both losses, so that a validation loss evaluated every tenth
        epoch weighs as much as the training loss logged at every one."""
        paired = self.both.any()
        train = self.train[self.both if paired else np.isfinite(self.train)]
        val = self.val[self.both if paired else np.isfinite(self.val)]
        values = np.abs(np.concatenate([train, val]))
        for level in (np.median(values), np.max(values)) if len(values) else ():
            if level > 0:
                return float(level)
        return 1.0


def _clean(series: Series | None, n: int) -> tuple[FloatArray, int, int]:
    if series is None:
        return np.full(n, math.nan), 0, 0
    values = np.where(series.present, series.values, math.nan)
    nonfinite = int(np.sum(series.present & ~np.isfinite(series.values)))
    finite = np.where(np.isfinite(values), values, math.nan)
    return finite.astype(np.float64), nonfinite, int(np.sum(series.present))


def _first(history: History, names: tuple[str, ...]) -> FloatArray | None:
    for name in names:
        series = history.epoch_metric(name)
        if series is not None and series.finite().sum() >= 2:
            return _clean(series, len(history.epoch))[0]
    return None


def _task(given: str, *accuracies: FloatArray | None) -> str:
    """The run's task, or classification where none was given and an accuracy was logged: an
    accuracy is a classifier's measure, and imported logs (a Keras CSV, a TensorBoard folder)
    come with accuracies and no task. Chance, the bound a cross entropy puts on its accuracy
    and the accuracy gaps are judged only on classifiers."""
    logged = any(a is not None for a in accuracies)
    return "classification" if given == "other" and logged else given


def _accuracy(history: History, names: tuple[str, ...]) -> FloatArray | None:
    """The first accuracy curve logged under one of `names`, as a share (0 to 1)."""
    values = _first(history, names)
    if values is None:
        return None
    percent = bool(np.nanmax(values) > PERCENT_ABOVE)
    return values / 100.0 if percent else values


def prepare(history: History) -> Curves:
    order = np.argsort(history.epoch, kind="stable")
    epoch = history.epoch[order]
    sorted_history = History(
        epoch=epoch,
        epoch_series={
            k: Series(v.values[order], v.present[order]) for k, v in history.epoch_series.items()
        },
        config=history.config,
        task=history.task,
        probe=history.probe,
    )
    train_acc = _accuracy(sorted_history, TRAIN_ACC_KEYS)
    val_acc = _accuracy(sorted_history, VAL_ACC_KEYS)
    task = _task(history.task, train_acc, val_acc)
    n = len(epoch)
    train, nf_train, rep_train = _clean(sorted_history.epoch_metric("train_loss"), n)
    val, nf_val, rep_val = _clean(sorted_history.epoch_metric("val_loss"), n)
    step_epoch, step_loss, nf_steps = _steps(history, epoch)
    logged_steps_per_epoch = _steps_per_epoch(history)
    offset = _offset(train, val, step_loss) if loss_may_be_negative(history.config, task) else 0.0
    train, val, step_loss = train + offset, val + offset, step_loss + offset
    return Curves(
        epoch=epoch,
        train=train,
        val=val,
        train_acc=train_acc,
        val_acc=val_acc,
        both=np.isfinite(train) & np.isfinite(val),
        step_epoch=step_epoch,
        step_loss=step_loss,
        nonfinite_train=nf_train,
        nonfinite_val=nf_val,
        nonfinite_steps=nf_steps,
        reported_train=rep_train,
        reported_val=rep_val,
        config=history.config,
        task=task,
        probe=history.probe,
        offset=offset,
        logged_steps_per_epoch=logged_steps_per_epoch,
    )


def _offset(train: FloatArray, val: FloatArray, steps: FloatArray) -> float:
    """What lifts a loss that went below zero so that its lowest value sits at
    `REBASED_FLOOR` of its range (up to where the epoch curves started); 0 for a loss that
    stayed at or above zero."""
    values = np.concatenate([curve[np.isfinite(curve)] for curve in (train, val, steps)])
    if len(values) == 0 or float(np.min(values)) >= 0:
        return 0.0
    starts = [
        float(curve[np.isfinite(curve)][0]) for curve in (train, val) if np.isfinite(curve).any()
    ]
    low = float(np.min(values))
    high = max(starts, default=low)
    span = high - low if high > low else abs(low)
    return -low + REBASED_FLOOR * span


def _steps(history: History, epoch: FloatArray) -> tuple[FloatArray, FloatArray, int]:
    loss = history.step_series.get("train_loss")
    empty = np.zeros(0, np.float64)
    if loss is None or len(history.step) == 0:
        return empty, empty, 0
    nonfinite = int(np.sum(loss.present & ~np.isfinite(loss.values)))
    keep = loss.present & np.isfinite(loss.values)
    step = history.step.astype(np.float64)
    series = history.step_series.get("epoch")
    if series is not None and series.present.all():
        position = series.values
    elif len(epoch) and step[-1] > step[0]:
        # No fractional epoch given: spread the steps evenly over the logged epochs.
        first = float(epoch[0]) - 1.0 if epoch[0] >= 1 else float(epoch[0])
        position = first + (step - step[0] + 1) / (step[-1] - step[0] + 1) * (epoch[-1] - first)
    else:
        return empty, empty, nonfinite
    return position[keep].astype(np.float64), loss.values[keep].astype(np.float64), nonfinite


def _steps_per_epoch(history: History) -> float:
    """The optimizer steps an epoch took, as the step log numbers them: the steps it counts over
    the epochs its own fractional epochs span (a Lightning, Hugging Face or client step log
    numbers optimizer steps however sparsely it logs them). 0 where the log gives no epoch of
    its steps or spans under `MIN_STEP_LOG_SPAN`: steps spread over the epochs by assumption do
    not count them."""
    series = history.step_series.get("epoch")
    if series is None or len(history.step) < 2 or not series.present.all():
        return 0.0
    position = series.values.astype(np.float64)
    span = float(np.max(position) - np.min(position))
    if not math.isfinite(span) or span < MIN_STEP_LOG_SPAN:
        return 0.0
    return float(np.max(history.step) - np.min(history.step)) / span
