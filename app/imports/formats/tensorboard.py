"""TensorBoard event files, read with the `tensorboard` package's own loader (no TensorFlow).

Scalars are grouped into epochs by the `epoch` tag where one is logged (Lightning), else by the
step when training tags repeat a step many times (Ultralytics logs every batch at step = epoch),
else each validation point is an epoch row whose training loss is the mean of the training
points since the previous one. Ultralytics loss components are summed like its CSV.

Event files in several folders keep their folder in the tag (`runA/loss`), except the layout of
Keras' TensorBoard callback: `train/` and `validation/` both log `epoch_loss`, `epoch_accuracy`,
…, one point per epoch numbered from 0, which are read as Keras' history names (`loss`,
`val_loss`, `accuracy`, …) with epochs from 1, like its CSV log.
"""

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from app.imports.parsed import Parsed, ParseError, Row
from app.imports.table import ZERO_BASED, loss_roles

NAME = "tensorboard"
Points = list[tuple[float, float]]  # (step, value) in file order
EpochOf = Callable[[float], float | None]
IGNORED = ("hp_metric", "_hparams_")
KERAS_SPLITS = {"train": "", "validation": "val_"}  # folder -> prefix of Keras' history names
KERAS_EPOCH = "epoch_"  # Keras' prefix of per-epoch tags (per-batch ones are `batch_*`)


def _renamer(paths: Sequence[Path]) -> Callable[[Path, str], str] | None:
    """How tags are named when event files sit in several folders; None for one folder."""
    if len({path.parent for path in paths}) < 2:
        return None
    if _keras_layout(paths):
        return lambda path, tag: (
            KERAS_SPLITS[path.parent.name] + tag.removeprefix(KERAS_EPOCH)
            if tag.startswith(KERAS_EPOCH)
            else f"{path.parent.name}/{tag}"
        )
    return lambda path, tag: f"{path.parent.name}/{tag}"


def sniff_name(filename: str) -> bool:
    return "tfevents" in filename


def read(paths: Sequence[Path]) -> dict[str, Points]:
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    scalars: dict[str, Points] = defaultdict(list)
    rename = _renamer(paths)
    for path in paths:
        try:
            for event in EventFileLoader(str(path)).Load():
                for value in event.summary.value:
                    kind = value.WhichOneof("value")
                    if kind == "simple_value":
                        number = float(value.simple_value)
                    elif kind == "tensor" and value.tensor.tensor_shape.dim == []:
                        array = tensor_util.make_ndarray(value.tensor)
                        if array.dtype.kind not in "fiu":
                            continue
                        number = float(array)
                    else:
                        continue
                    if not value.tag.startswith(IGNORED):
                        tag = value.tag if rename is None else rename(path, value.tag)
                        scalars[tag].append((float(event.step), number))
        except Exception as exc:  # the loader raises its own and protobuf errors
            raise ParseError(
                f"{path.name} is not a readable TensorBoard event file ({exc})"
            ) from exc
    if not scalars:
        raise ParseError("no scalar summaries in the event file")
    return dict(scalars)


def parse_events(paths: Sequence[Path], overrides: Mapping[str, str] | None = None) -> Parsed:
    scalars = read(paths)
    tags = sorted(scalars)
    notes: list[str] = []
    mapping, train_parts, val_parts, note = loss_roles((t for t in tags if t != "epoch"), overrides)
    if note:
        notes.append(note)
    if not val_parts and not train_parts:
        raise ParseError(f"no loss among the tags: {', '.join(tags)}")
    epoch_of, shift = _epochs(scalars, train_parts, notes, keras=_keras_layout(paths))
    rename = {t: role for role, t in mapping.items()}
    per_epoch: dict[float, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    steps: list[Row] = []
    train_counts: dict[float, int] = defaultdict(int)
    for tag, points in scalars.items():
        if tag == "epoch":
            continue
        seen: set[tuple[float, str]] = set()
        for step, value in points:
            epoch = epoch_of(step)
            if epoch is None:
                continue
            if tag in val_parts or tag.startswith(("val", "metrics/")):
                if (epoch, tag) in seen:  # a value written again (final validation): keep the first
                    continue
                seen.add((epoch, tag))
            per_epoch[epoch][tag].append(value)
            if tag in train_parts:
                train_counts[epoch] += 1
    many = any(count > 1 for count in train_counts.values())
    rows: list[Row] = []
    for epoch in sorted(per_epoch):
        values = {tag: math.fsum(v) / len(v) for tag, v in per_epoch[epoch].items()}
        row: Row = {"epoch": epoch + shift}
        for tag, value in values.items():
            if tag not in train_parts + val_parts:
                row[rename.get(tag, tag)] = value
            elif len(train_parts) > 1 or len(val_parts) > 1:
                row[tag] = value
        for role, parts in (("train_loss", train_parts), ("val_loss", val_parts)):
            if parts and all(p in values for p in parts):
                row[role] = math.fsum(values[p] for p in parts)
        if "train_loss" in row or "val_loss" in row:
            rows.append(row)
    if many and len(train_parts) == 1:
        for step, value in scalars[train_parts[0]]:
            epoch = epoch_of(step)
            if epoch is not None:
                steps.append({"step": step, "train_loss": value})
        notes.append("an epoch's training loss is the mean of its logged training points")
    return Parsed(NAME, rows, steps, mapping=mapping, notes=notes)


def _keras_layout(paths: Sequence[Path]) -> bool:
    folders = {path.parent for path in paths}
    return len(folders) > 1 and {folder.name for folder in folders} <= set(KERAS_SPLITS)


def _epochs(
    scalars: Mapping[str, Points], train_parts: list[str], notes: list[str], keras: bool
) -> tuple[EpochOf, float]:
    if "epoch" in scalars:
        marks = sorted(scalars["epoch"])
        steps = [s for s, _ in marks]
        notes.append("points are assigned to epochs by the logged `epoch` tag")
        shift = 1.0 if marks and marks[0][1] == 0 else 0.0
        if shift:
            notes.append(ZERO_BASED)
        return _lookup(steps, [e for _, e in marks]), shift
    repeated = any(
        len(scalars[t]) > len({s for s, _ in scalars[t]}) for t in train_parts if t in scalars
    )
    if repeated:
        notes.append("training points repeat each step: the step is the epoch")
        return (lambda step: step), 0.0
    if keras:
        notes.append("Keras' TensorBoard layout (train/ and validation/): the step is the epoch")
        notes.append(ZERO_BASED)
        return (lambda step: step), 1.0
    notes.append("no `epoch` tag: the step is the epoch")
    return (lambda step: step), 0.0


def _lookup(steps: list[float], epochs: list[float]) -> EpochOf:
    def epoch_of(step: float) -> float | None:
        index = bisect.bisect_right(steps, step) - 1
        if index < 0:
            return epochs[0] if epochs else None
        # Several epoch marks at one step: the epoch that ends there.
        same = [e for s, e in zip(steps, epochs, strict=True) if s == steps[index]]
        return min(same)

    return epoch_of
