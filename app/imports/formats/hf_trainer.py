"""Hugging Face `trainer_state.json`: `log_history` mixes training logs (`loss`, every
`logging_steps`) and evaluation logs (`eval_loss`, every `eval_steps` or epoch).

Training logs become step rows. Each evaluation becomes an epoch row at its (fractional) epoch,
whose training loss is the mean of the training logs since the previous evaluation, the same
window-average a Keras or Lightning epoch loss is. With several evaluation sets and no plain
`eval_loss` (`eval_g0_loss` …), the first set is the validation loss and the others are kept as
metrics.
"""

import json
import math
from collections.abc import Mapping
from typing import Any

from app.imports.parsed import Parsed, ParseError, Row
from app.imports.table import number

NAME = "hf_trainer_state"
SKIP = ("runtime", "samples_per_second", "steps_per_second", "total_flos", "learning_rate")


def sniff(text: str, filename: str) -> bool:
    return '"log_history"' in text[:200_000]


def _eval_loss_key(history: list[dict[str, Any]], overrides: Mapping[str, str] | None) -> str:
    if overrides and "val_loss" in overrides:
        return overrides["val_loss"]
    keys = sorted({k for h in history for k in h if k.startswith("eval_") and k.endswith("loss")})
    if "eval_loss" in keys:
        return "eval_loss"
    if not keys:
        raise ParseError("log_history has no evaluation loss (eval_loss)")
    return keys[0]


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc})") from exc
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise ParseError("no log_history list")
    train_key = (overrides or {}).get("train_loss", "loss")
    eval_key = _eval_loss_key(history, overrides)
    notes = []
    if eval_key != "eval_loss":
        notes.append(f"no `eval_loss`: `{eval_key}` is the validation loss")
    steps: list[Row] = []
    epochs: dict[float, Row] = {}
    window: list[float] = []
    for entry in history:
        epoch, step = number(entry.get("epoch")), number(entry.get("step"))
        loss = number(entry.get(train_key))
        if loss is not None and step is not None:
            steps.append({"step": step, "epoch": epoch, "train_loss": loss})
            window.append(loss)
        evaluated = any(key.startswith("eval_") for key in entry)
        if not evaluated or epoch is None:
            continue
        row = epochs.setdefault(epoch, {"epoch": epoch})
        value = number(entry.get(eval_key))
        if value is not None:
            row["val_loss"] = value
        if window:
            row["train_loss"] = math.fsum(window) / len(window)
            window = []
        for key, raw in entry.items():
            metric = number(raw)
            wanted = key.startswith("eval_") and key != eval_key and not key.endswith(SKIP)
            if wanted and metric is not None:
                row["val_" + key.removeprefix("eval_")] = metric
    if not epochs:
        raise ParseError(f"no evaluation entry carries `{eval_key}`")
    notes.append(
        "an evaluation's training loss is the mean of the training losses logged since the "
        "previous evaluation"
    )
    rows = [epochs[e] for e in sorted(epochs) if "val_loss" in epochs[e]]
    if rows and rows[0]["epoch"] == 0 and "train_loss" not in rows[0]:
        notes.append("the evaluation before training (epoch 0) is kept as a validation-only row")
    config: dict[str, Any] = {}
    if isinstance(state.get("train_batch_size"), int):
        config["batch_size"] = state["train_batch_size"]
    return Parsed(
        NAME,
        rows,
        [s for s in steps if s["epoch"] is not None],
        config=config,
        mapping={"train_loss": train_key, "val_loss": eval_key},
        notes=notes,
    )
