"""PyTorch Lightning callback: `Trainer(callbacks=[LossgapCallback("my-run")])`.

Step rows take each batch's loss from what `training_step` returned (kept as a tensor until the
epoch ends, so no extra device sync per step). Epoch rows take the validation metrics of the
validation run that belongs to the epoch (sanity checks and stale values from an earlier epoch
are left out) and the training loss the module logged for the epoch, else the mean of its steps.
Only global rank zero reports.
"""

from typing import Any

import lightning.pytorch as pl

from lossgap_client.client import Client
from lossgap_client.introspect import model_config
from lossgap_client.safety import never_raises
from lossgap_client.tracker import Target, Tracker

TRAIN_KEYS = ("train_loss_epoch", "train_loss", "train/loss_epoch", "train/loss", "loss_epoch")
VAL_KEYS = ("val_loss", "valid_loss", "val/loss", "validation_loss", "val_loss_epoch", "eval_loss")


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        numel = getattr(value, "numel", None)
        if callable(numel) and numel() != 1:
            continue
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _first(metrics: dict[str, float], keys: tuple[str, ...]) -> float | None:
    return next((metrics[key] for key in keys if key in metrics), None)


def _json_scalars(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}


def _loss(outputs: Any) -> Any:
    if isinstance(outputs, dict):
        return outputs.get("loss")
    return outputs


class LossgapCallback(pl.Callback):
    """Reports every training batch and epoch to lossgap; prints the diagnosis at the end."""

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
        self.target = Target(name, url, api_key, client, config or {}, task, project)
        self.show = show
        self.tracker: Tracker | None = None
        self.diagnosis: dict[str, Any] | None = None
        self._val: dict[str, float] | None = None

    def _config(self, trainer: pl.Trainer, module: pl.LightningModule) -> dict[str, Any]:
        config = model_config(module)
        config.update(_json_scalars(dict(getattr(module, "hparams", {}) or {})))
        if trainer.optimizers:
            group = trainer.optimizers[0].param_groups[0]
            config["optimizer"] = type(trainer.optimizers[0]).__name__.lower()
            config["learning_rate"] = float(group.get("lr", 0.0))
            config["weight_decay"] = float(group.get("weight_decay", 0.0))
        loader = trainer.train_dataloader
        batch_size = getattr(loader, "batch_size", None)
        if isinstance(batch_size, int):
            config["batch_size"] = batch_size
        dataset = getattr(loader, "dataset", None)
        if dataset is not None and hasattr(dataset, "__len__"):
            config["train_size"] = len(dataset)
        config["epochs"] = trainer.max_epochs
        config["train_loss_aggregation"] = "epoch_mean"
        return config

    @never_raises
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            config = self._config(trainer, pl_module)
            self.tracker = self.target.start(config)

    @never_raises
    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        loss = _loss(outputs)
        if self.tracker is not None and loss is not None:
            self.tracker.step(loss)

    @never_raises
    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._val = _scalars(trainer.callback_metrics)

    @never_raises
    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.tracker is None:
            return
        metrics = _scalars(trainer.callback_metrics)
        train_loss = _first(metrics, TRAIN_KEYS)
        val = self._val or {}
        self._val = None
        val_loss = _first(val, VAL_KEYS)
        # Validation values in callback_metrics may be an earlier epoch's: only fresh ones count.
        train_side = {
            k: v
            for k, v in metrics.items()
            if not k.startswith(("val", "valid", "eval")) and not k.endswith("_step")
        }
        losses = {*TRAIN_KEYS, *VAL_KEYS, "loss"}
        extra = {k: v for k, v in {**train_side, **val}.items() if k not in losses}
        if self.tracker.pending_steps or val_loss is not None:
            self.tracker.epoch(val_loss, train_loss, epoch=trainer.current_epoch + 1, **extra)

    @never_raises
    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.tracker is not None:
            self.diagnosis = self.tracker.finish(show=self.show)
            self.tracker = None
