"""Config from the files that sit beside a log (`hparams.yaml`, `args.yaml`, W&B `config.yaml`,
MLflow `params/`): only keys the analysis understands, under their `api.md` names."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

SYNONYMS = {
    "batch_size": "batch_size",
    "batch": "batch_size",
    "lr": "learning_rate",
    "lr0": "learning_rate",
    "learning_rate": "learning_rate",
    "weight_decay": "weight_decay",
    "optimizer__weight_decay": "weight_decay",
    "dropout": "dropout",
    "label_smoothing": "label_smoothing",
    "mixup": "mixup",
    "optimizer": "optimizer",
    "patience": "early_stopping_patience",
    "early_stopping_patience": "early_stopping_patience",
    "num_classes": "num_classes",
}
NUMERIC = {
    "batch_size",
    "learning_rate",
    "weight_decay",
    "dropout",
    "label_smoothing",
    "mixup",
    "early_stopping_patience",
    "num_classes",
}
FILES = ("hparams.yaml", "args.yaml", "config.yaml")


def _value(key: str, raw: Any) -> Any:
    if isinstance(raw, Mapping) and "value" in raw:  # W&B: {desc: …, value: …}
        raw = raw["value"]
    if key in NUMERIC:
        try:
            number = float(raw)
        except (TypeError, ValueError):
            return None
        return (
            int(number)
            if key in ("batch_size", "num_classes", "early_stopping_patience")
            else number
        )
    return raw if isinstance(raw, str | int | float | bool) else None


def config_from(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    config: dict[str, Any] = {}
    used: list[str] = []
    for key, raw in values.items():
        name = SYNONYMS.get(str(key))
        if name is None or name in config:
            continue
        value = _value(name, raw)
        if value is not None:
            config[name] = value
            used.append(str(key))
    return config, used


def read_companions(folder: Path) -> tuple[dict[str, Any], list[str]]:
    config: dict[str, Any] = {}
    notes: list[str] = []
    for path in sorted(folder.rglob("*")):
        if not path.name.endswith(FILES) or not path.is_file():
            continue
        try:
            document = yaml.safe_load(path.read_text(errors="replace"))
        except yaml.YAMLError:
            notes.append(f"{path.name} is not readable YAML; ignored")
            continue
        if isinstance(document, Mapping):
            found, used = config_from(document)
            for key, value in found.items():
                config.setdefault(key, value)
            if used:
                notes.append(f"config from {path.name}: {', '.join(used)}")
    return config, notes
