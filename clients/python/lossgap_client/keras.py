"""Keras 3 callback (any backend): `model.fit(..., callbacks=[LossgapCallback("my-run")])`.

Keras passes `on_train_batch_end` the *running mean* of the epoch's loss, not the batch's loss;
the callback undoes the average (batch k's loss = k*mean_k - (k-1)*mean_{k-1}, exact when batches
are equal in size, slightly off for a short last batch) so step rows carry real batch losses. The
epoch row takes Keras's own epoch logs (`loss` → `train_loss`, `val_loss`, metrics as they are),
and the model's dropout, batch norm, weight penalties and label smoothing fill `config`.
"""

from typing import Any

import keras

from lossgap_client.client import Client
from lossgap_client.introspect import model_config
from lossgap_client.safety import never_raises
from lossgap_client.tracker import Target, Tracker


def _loss_config(model: Any) -> dict[str, Any]:
    config: dict[str, Any] = {}
    loss = getattr(model, "loss", None)
    kwargs = getattr(loss, "_fn_kwargs", None) or {}
    smoothing = getattr(loss, "label_smoothing", kwargs.get("label_smoothing"))
    if isinstance(smoothing, int | float) and smoothing > 0:
        config["label_smoothing"] = float(smoothing)
    name = getattr(getattr(loss, "fn", None), "__name__", None) or getattr(loss, "name", None)
    if isinstance(name, str):
        lowered = name.lower()
        if "crossentropy" in lowered:
            config["loss"] = "bce" if "binary" in lowered else "cross_entropy"
        elif lowered in ("mean_squared_error", "mse"):
            config["loss"] = "mse"
        elif lowered in ("mean_absolute_error", "mae"):
            config["loss"] = "mae"
    return config


def _penalised(model: Any) -> bool:
    layers = model._flatten_layers(include_self=False, recursive=True)
    return any(
        getattr(layer, attribute, None) is not None
        for layer in layers
        for attribute in ("kernel_regularizer", "bias_regularizer", "activity_regularizer")
    )


class LossgapCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """Reports every batch and epoch of `fit` to lossgap; prints the diagnosis when it ends."""

    def __init__(
        self,
        name: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        client: Client | None = None,
        config: dict[str, Any] | None = None,
        task: str = "other",
        project: str | None = None,
        show: bool = True,
    ) -> None:
        super().__init__()
        self.target = Target(name, url, api_key, client, config or {}, task, project)
        self.show = show
        self.tracker: Tracker | None = None
        self.diagnosis: dict[str, Any] | None = None
        self._previous_mean = 0.0

    def _config(self) -> dict[str, Any]:
        config = model_config(self.model)
        config.update(_loss_config(self.model))
        if _penalised(self.model):
            config["l2_in_loss"] = True
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            config["optimizer"] = type(optimizer).__name__.lower()
            try:
                config["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            except Exception:  # a schedule object has no single value
                config["lr_schedule"] = type(optimizer.learning_rate).__name__
        config["train_loss_aggregation"] = "epoch_mean"
        config["epochs"] = self.params.get("epochs")
        return config

    @never_raises
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.tracker = self.target.start(self._config())

    @never_raises
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._previous_mean = 0.0

    @never_raises
    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.tracker is None or not logs or "loss" not in logs:
            return
        mean = float(logs["loss"])
        self.tracker.step((batch + 1) * mean - batch * self._previous_mean)
        self._previous_mean = mean

    @never_raises
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.tracker is None:
            return
        metrics = dict(logs or {})
        train_loss = metrics.pop("loss", None)
        val_loss = metrics.pop("val_loss", None)
        self.tracker.epoch(val_loss, train_loss, epoch=epoch + 1, **metrics)

    @never_raises
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.tracker is not None:
            self.diagnosis = self.tracker.finish(show=self.show)
            self.tracker = None
