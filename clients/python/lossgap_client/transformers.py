"""Hugging Face `Trainer` callback: `Trainer(..., callbacks=[LossgapCallback("my-run")])`.

The Trainer logs `loss` every `logging_steps` as the mean since the previous log, with the
fractional epoch it was logged at; those become step rows. Each evaluation (`eval_loss`,
`eval_*` metrics, at whatever `eval_strategy` says) closes an epoch row at the evaluation's
epoch, its training loss the mean of the step rows since the last evaluation. Without any
evaluation the run still gets epoch rows of training loss at the end. Only the main process
reports. `TrainingArguments` fill `config` (batch size, learning rate, schedule, weight decay,
label smoothing).
"""

from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from lossgap_client.client import Client
from lossgap_client.introspect import model_config
from lossgap_client.safety import never_raises
from lossgap_client.tracker import Target, Tracker


def _args_config(args: TrainingArguments) -> dict[str, Any]:
    world = max(int(getattr(args, "world_size", 1) or 1), 1)
    return {
        "batch_size": args.per_device_train_batch_size * args.gradient_accumulation_steps * world,
        "learning_rate": args.learning_rate,
        "weight_decay": args.weight_decay,
        "label_smoothing": args.label_smoothing_factor,
        "lr_schedule": str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)),
        "optimizer": str(getattr(args.optim, "value", args.optim)),
        "epochs": args.num_train_epochs,
        "train_loss_aggregation": "epoch_mean",
        # A warm-up starts below the configured rate whatever the schedule is called (newer
        # releases fold the ratio into `warmup_steps` as a fraction).
        **{
            key: getattr(args, key)
            for key in ("warmup_steps", "warmup_ratio")
            if getattr(args, key, None)
        },
    }


class LossgapCallback(TrainerCallback):
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

    @never_raises
    def on_train_begin(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        model: Any = None,
        **kwargs: Any,
    ) -> None:
        if state.is_world_process_zero:
            config = {**model_config(model), **_args_config(args)}
            self.tracker = self.target.start(config)

    @never_raises
    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if self.tracker is None or not logs:
            return
        epoch = logs.get("epoch", state.epoch)
        if "loss" in logs:
            extra = {k: logs[k] for k in ("learning_rate", "grad_norm") if k in logs}
            self.tracker.step(logs["loss"], step=state.global_step, epoch=epoch, **extra)
        if "eval_loss" in logs:
            metrics = {
                "val_" + key.removeprefix("eval_"): value
                for key, value in logs.items()
                if key.startswith("eval_")
                and key != "eval_loss"
                and "runtime" not in key
                and "per_second" not in key
            }
            self.tracker.epoch(logs["eval_loss"], epoch=epoch, **metrics)

    @never_raises
    def on_epoch_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        strategy = str(getattr(args.eval_strategy, "value", args.eval_strategy))
        if self.tracker is not None and strategy == "no" and self.tracker.pending_steps:
            self.tracker.epoch(epoch=state.epoch)

    @never_raises
    def on_train_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        if self.tracker is None:
            return
        if self.tracker.pending_steps:
            self.tracker.epoch(epoch=state.epoch)
        self.diagnosis = self.tracker.finish(show=self.show)
        self.tracker = None
