"""Config keys the analysis understands, read off a model the script already built.

The analysis weighs `dropout`, `batch_norm` and `label_smoothing` (api.md §1) heavily, and users
rarely type them in: the callbacks fill them from the model so the diagnosis can use them. An
explicit `config` from the user always wins. Nothing here imports a framework; modules are
recognised by class name so one function serves torch and Keras models alike.
"""

import contextlib
import math
from collections.abc import Iterable
from typing import Any

DROPOUT = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "SpatialDropout")
NORMS = ("BatchNorm", "SyncBatchNorm", "BatchNormalization")


def _dropout_rate(module: Any) -> float | None:
    name = type(module).__name__
    if not name.startswith(DROPOUT) and name not in ("GaussianDropout",):
        return None
    for attribute in ("p", "rate"):
        value = getattr(module, attribute, None)
        if isinstance(value, int | float):
            return float(value)
    return None


def _torch_submodules(model: Any) -> Iterable[Any]:
    return model.modules() if hasattr(model, "modules") else ()


def _keras_layers(model: Any) -> Iterable[Any]:
    return model._flatten_layers(include_self=False, recursive=True)  # type: ignore[no-any-return]


def model_config(model: Any) -> dict[str, Any]:
    """`dropout` (largest rate), `batch_norm`, `parameters` (trainable) for a torch or Keras
    model."""
    if model is None:
        return {}
    # A Keras model on the torch backend is also a torch module: its layers say more.
    keras_model = callable(getattr(model, "_flatten_layers", None))
    modules = list(_keras_layers(model) if keras_model else _torch_submodules(model))
    rates = [r for r in map(_dropout_rate, modules) if r is not None and r > 0]
    config: dict[str, Any] = {
        "dropout": max(rates, default=0.0),
        "batch_norm": any(type(m).__name__.startswith(NORMS) for m in modules),
    }
    # The trainable ones: frozen layers give a model no room to fit its training set, and the
    # server reads `parameters` against `train_size` to tell whether it had room.
    if keras_model:
        with contextlib.suppress(Exception):  # an unbuilt Keras model has no weights yet
            config["parameters"] = sum(int(math.prod(w.shape)) for w in model.trainable_weights)
    elif hasattr(model, "parameters"):
        config["parameters"] = sum(int(p.numel()) for p in model.parameters() if p.requires_grad)
    return config


def merged(inferred: dict[str, Any], explicit: dict[str, Any] | None) -> dict[str, Any]:
    return {**{k: v for k, v in inferred.items() if v is not None}, **(explicit or {})}
