"""The plain-loop helper: `step(loss)` per batch, `epoch(val_loss=…)` per epoch, `finish()`.

It keeps what a training loop already has (the batch loss tensor) and turns it into the rows
the service wants: per-step losses with fractional epochs, so the half-epoch lag of an
epoch-mean training loss can be measured, and an epoch row whose `train_loss` is the epoch mean
unless the caller gives one. Step losses stay tensors until the epoch ends, so logging adds no
device synchronisation inside the loop. The framework callbacks are built on it.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from lossgap_client.client import Client, Run
from lossgap_client.introspect import merged, model_config
from lossgap_client.summary import format_diagnosis
from lossgap_client.wandb_summary import to_wandb


def _detached(value: Any) -> Any:
    detach = getattr(value, "detach", None)
    return detach() if callable(detach) else value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class Tracker:
    """One run reported from a training loop. Methods never raise on network trouble."""

    def __init__(
        self,
        name: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        client: Client | None = None,
        config: dict[str, Any] | None = None,
        model: Any = None,
        task: str = "other",
        project: str | None = None,
        run_id: str | None = None,
    ) -> None:
        self._own_client = client is None
        self.client = client if client is not None else Client(url, api_key)
        self.run: Run = self.client.create_run(
            name, task, merged(model_config(model), config), project, run_id=run_id
        )
        self.last_epoch = 0.0
        self.last_row: dict[str, float | None] = {}  # the last epoch row sent (probe() reads)
        self.global_step = 0
        self._steps: list[dict[str, Any]] = []

    @property
    def id(self) -> str:
        return self.run.id

    def step(
        self, loss: Any, *, step: int | None = None, epoch: float | None = None, **metrics: Any
    ) -> None:
        """One optimisation step's training loss (a float or a tensor; read at epoch end).

        `epoch` (fractional) is filled in at epoch end by spreading the epoch's steps evenly
        when the caller does not know it.
        """
        self.global_step = step if step is not None else self.global_step + 1
        row = {k: _detached(v) for k, v in metrics.items()}
        row.update(step=self.global_step, train_loss=_detached(loss))
        if epoch is not None:
            row["epoch"] = epoch
        self._steps.append(row)

    def epoch(
        self,
        val_loss: Any = None,
        train_loss: Any = None,
        *,
        epoch: float | None = None,
        **metrics: Any,
    ) -> None:
        """Close an epoch: send its steps and one epoch row (train loss: mean of its steps).

        `epoch` defaults to one more than the last; evaluations between epochs (Hugging Face's
        `eval_steps`) pass fractional ones.
        """
        steps, self._steps = self._steps, []
        start = self.last_epoch
        end = float(epoch) if epoch is not None else math.floor(start) + 1.0
        self.last_epoch = end
        rows = []
        for i, raw in enumerate(steps):
            row = {k: _number(v) for k, v in raw.items()}
            row["step"] = int(raw["step"])
            if row.get("epoch") is None:
                row["epoch"] = start + (end - start) * (i + 1) / len(steps)
            if row.get("train_loss") is not None:
                rows.append({k: v for k, v in row.items() if v is not None})
        if rows:
            self.run.log_steps(rows)
        train = _number(train_loss)
        losses = [r["train_loss"] for r in rows]
        if train is None and rows:
            train = math.fsum(losses) / len(losses) if losses else math.nan
        values = {k: _number(v) for k, v in metrics.items()}
        row = {"train_loss": train, "val_loss": _number(val_loss), **values}
        row = {k: v for k, v in row.items() if v is not None}
        if "train_loss" in row or "val_loss" in row:
            self.run.log_epoch(end, **row)
            self.last_row = row

    @property
    def pending_steps(self) -> int:
        return len(self._steps)

    def diagnosis(self, timeout: float = 30.0) -> dict[str, Any] | None:
        return self.run.diagnosis(timeout)

    def finish(self, *, show: bool = True, timeout: float = 10.0) -> dict[str, Any] | None:
        """Send everything, fetch the diagnosis, print it (`show`) and return it."""
        result = self.diagnosis(timeout)
        report = f"{self.client.url}/runs/{self.id}"
        if show:
            print(format_diagnosis(result, report_url=report))
        if result is not None:
            to_wandb(result, report)
        if self._own_client:
            self.client.close()
        return result

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        self.finish(show=kind is None)


@dataclass(frozen=True)
class Target:
    """Where a callback reports and what it calls the run; the user's `config` wins over what
    the callback reads off the model and trainer."""

    name: str
    url: str | None = None
    api_key: str | None = None
    client: Client | None = None
    config: dict[str, Any] = field(default_factory=dict)
    task: str = "other"
    project: str | None = None

    def start(self, inferred: dict[str, Any]) -> Tracker:
        return Tracker(
            self.name,
            url=self.url,
            api_key=self.api_key,
            client=self.client,
            config={**inferred, **self.config},
            task=self.task,
            project=self.project,
        )
