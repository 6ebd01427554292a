"""A training script's stdout: the documented regex set.

A line is an epoch record when it carries a validation loss: `key=value` or `key: value` pairs
(`epoch 3: train_loss=0.41, val_loss=0.52`; Keras `model.fit` progress lines `… - loss: 0.36 -
val_loss: 1.34` under an `Epoch 3/40` line; `训练损失` / `验证损失` labels). The epoch is the
number after `epoch` on the line, else that of the last `Epoch N[/M]` line; a later record of
the same epoch replaces an earlier one. Lines without a validation loss (per-batch progress,
warnings, callbacks) are skipped, except that a `model.fit` run without validation data is read
from the first finished progress line (`77/77 [====…] - 0s - loss: 0.36`) after each `Epoch N/M`
line: the later ones under the last epoch are `evaluate()` after training.
"""

import re
from collections.abc import Mapping
from typing import Any

from app.imports.parsed import Parsed, ParseError
from app.imports.table import ZERO_BASED, epoch_rows, number

NAME = "plain_log"
# Linear-time patterns: no quantified group can match the same text two ways, and a key is at
# most KEY_CHARS long, so a hostile line (16 KB of one letter, a 100k-digit number) costs time
# proportional to its length instead of its square.
KEY_CHARS = 64
MAX_LINE = 10_000  # characters of a line read for key/value pairs; a log line is far shorter
NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN|inf|-inf"
PADDING = r"[ \t]{0,32}"  # aligned columns pad a key or a value with spaces
PAIR = re.compile(
    rf"(?<![^\s|:=,\-])([^\s|:=,\-][^\s|:=,]{{0,{KEY_CHARS - 1}}})"
    rf"{PADDING}[:=]{PADDING}({NUMBER})(?![\d./])"
)
EPOCH_ON_LINE = re.compile(r"\bepoch\b[\s:=#]*(\d+)", re.IGNORECASE)
EPOCH_HEADER = re.compile(r"^\s*Epoch\s+(\d+)(?:\s*/\s*\d+)?\s*$", re.IGNORECASE)
LABELS = {
    "训练损失": "train_loss",
    "验证损失": "val_loss",
    "训练准确率": "train_accuracy",
    "验证准确率": "val_accuracy",
}
VALIDATION = ("val_loss", "valid_loss", "validation_loss", "eval_loss", "val/loss")
# The last progress line of a Keras epoch: all N of N batches done (verbose 1 bar, Keras 3 bar,
# or verbose 2), unlike the `k/N … ETA` lines before it.
FIT_DONE = re.compile(r"^\s*(\d+)/\1\s+(?:\[|━|-)")


def _pairs(line: str) -> dict[str, str]:
    found = {LABELS.get(key, key).lower(): value for key, value in PAIR.findall(line[:MAX_LINE])}
    found.pop("epoch", None)
    return found


def _fit_done(line: str, pairs: Mapping[str, str]) -> bool:
    return "loss" in pairs and FIT_DONE.match(line) is not None


def sniff(text: str, filename: str) -> bool:
    lines = text.splitlines()
    if any(any(v in _pairs(line) for v in VALIDATION) for line in lines):
        return True
    headed = any(EPOCH_HEADER.match(line) for line in lines)
    return headed and any(_fit_done(line, _pairs(line)) for line in lines)


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    current: int | None = None
    fit_pending = False  # an `Epoch N/M` line whose finished progress line is still to come
    records: list[tuple[int, dict[str, Any]]] = []
    fitted: list[tuple[int, dict[str, Any]]] = []  # model.fit epochs without validation
    for line in text.splitlines():
        header = EPOCH_HEADER.match(line)
        if header:
            current, fit_pending = int(header.group(1)), True
            continue
        pairs = _pairs(line)
        if not any(v in pairs for v in VALIDATION):
            if current is not None and fit_pending and _fit_done(line, pairs):
                fitted.append((current, pairs))
                fit_pending = False
            continue
        explicit = EPOCH_ON_LINE.search(line)
        epoch = int(explicit.group(1)) if explicit else current
        records.append((len(records) if epoch is None else epoch, pairs))
    notes = []
    training_only = not records and bool(fitted)
    if training_only:
        records = fitted
        notes.append("no validation loss in the log: a training-only history")
    if not records:
        raise ParseError(
            "no line carries a validation loss (e.g. `epoch 3: train_loss=0.4, val_loss=0.5`), "
            "and no Keras `model.fit` epoch (`Epoch 3/40`) ends with a loss"
        )
    notes.insert(0, f"{len({e for e, _ in records})} epoch lines found")
    shift = 1 if min(e for e, _ in records) == 0 else 0
    if shift:
        notes.append(ZERO_BASED)
    rows, mapping = epoch_rows(
        [pairs for _, pairs in records], [float(e + shift) for e, _ in records], overrides
    )
    if not rows or (not training_only and all(number(r.get("val_loss")) is None for r in rows)):
        raise ParseError("no epoch line had a readable validation loss")
    return Parsed(NAME, rows, mapping=mapping, notes=notes)
