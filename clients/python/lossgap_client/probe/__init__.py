"""`probe()`: the workers' re-evaluation, run in the user's own process on their own model.

For models that cannot be exported to TorchScript or data that must not leave the machine: the
same report a worker would write (eval- and train-mode passes, shuffled split, leakage, split
shift, loss recompute, label noise), computed here and posted to `/v1/runs/{id}/probes`, where
the diagnosis uses it exactly like a worker's. Needs torch, numpy and scipy
(`pip install 'lossgap-client[probe]'`).
"""

import logging
from typing import Any

import torch

from lossgap_client.client import Client, Run
from lossgap_client.probe.collect import collect
from lossgap_client.probe.data import Data
from lossgap_client.probe.errors import ProbeError
from lossgap_client.probe.losses import LOSSES
from lossgap_client.probe.report import Settings, build
from lossgap_client.probe_report import ProbeReport
from lossgap_client.tracker import Tracker

__all__ = ["ProbeError", "ProbeReport", "loss_name", "probe"]
log = logging.getLogger("lossgap_client")

TORCH_LOSSES = {
    "CrossEntropyLoss": "cross_entropy",
    "NLLLoss": "nll",
    "BCEWithLogitsLoss": "bce",
    "MSELoss": "mse",
    "L1Loss": "mae",
    "HuberLoss": "huber",
    "SmoothL1Loss": "smooth_l1",
    "cross_entropy": "cross_entropy",
    "nll_loss": "nll",
    "binary_cross_entropy_with_logits": "bce",
    "mse_loss": "mse",
    "l1_loss": "mae",
    "huber_loss": "huber",
    "smooth_l1_loss": "smooth_l1",
}


def loss_name(loss_fn: Any) -> tuple[str, float]:
    """The report's loss name and label smoothing for a torch loss module, function or name."""
    if isinstance(loss_fn, str):
        if loss_fn not in LOSSES:
            raise ProbeError(f"Unknown loss {loss_fn!r}; known: {', '.join(LOSSES)}.")
        return loss_fn, 0.0
    kind = type(loss_fn).__name__ if isinstance(loss_fn, torch.nn.Module) else None
    kind = kind or getattr(loss_fn, "__name__", repr(loss_fn))
    if kind not in TORCH_LOSSES:
        raise ProbeError(
            f"The probe cannot score per sample with {kind}: pass one of torch's "
            f"{', '.join(k for k in TORCH_LOSSES if k[0].isupper())} (or their functional "
            f"forms), or a name among {', '.join(LOSSES)}."
        )
    return TORCH_LOSSES[kind], float(getattr(loss_fn, "label_smoothing", 0.0) or 0.0)


def _device(model: torch.nn.Module, device: str | torch.device | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _target(run: Tracker | Run | str | None, client: Client | None) -> tuple[Client, str] | None:
    if isinstance(run, Tracker):
        return run.client, run.id
    if isinstance(run, Run):
        return run.client, run.id
    if isinstance(run, str) and client is not None:
        return client, run
    return None


def probe(
    model: torch.nn.Module,
    train_loader: Any,
    val_loader: Any,
    loss_fn: Any = "cross_entropy",
    *,
    run: Tracker | Run | str | None = None,
    client: Client | None = None,
    train_raw_loader: Any = None,
    batch_size: int | None = None,
    reported_train: float | None = None,
    reported_val: float | None = None,
    max_samples: int = 20_000,
    eval_batch_size: int = 512,
    permutations: int = 2000,
    near_duplicate_cosine: float = 0.995,
    device: str | torch.device | None = None,
    timeout: float = 30.0,
) -> ProbeReport:
    """Compute the probe report of `model` on the two loaders; post it when `run` is given.

    `run` is a `Tracker`, a `Run`, or a run id with `client`. The last epoch the tracker logged
    gives the reported losses unless `reported_train`/`reported_val` are passed. A `loss_fn`
    module carries its label smoothing. `train_raw_loader` (training inputs without
    augmentation, same order) adds the augmentation effect. Raises `ProbeError` for what must
    be fixed (shapes, labels, loss); never for network trouble (the report is returned).
    """
    loss, smoothing = loss_name(loss_fn)
    x_train, y_train, more_train = collect(train_loader, max_samples)
    x_val, y_val, more_val = collect(val_loader, max_samples)
    x_raw = collect(train_raw_loader, len(x_train))[0] if train_raw_loader is not None else None
    if isinstance(run, Tracker) and run.last_row:
        reported_train = (
            reported_train if reported_train is not None else run.last_row.get("train_loss")
        )
        reported_val = reported_val if reported_val is not None else run.last_row.get("val_loss")
    batch = batch_size or getattr(train_loader, "batch_size", None) or 32
    settings = Settings(
        loss=loss,
        label_smoothing=smoothing,
        batch_size=int(batch),
        eval_batch_size=eval_batch_size,
        permutations=permutations,
        near_threshold=near_duplicate_cosine,
        task="classification" if loss in ("cross_entropy", "nll", "bce") else "regression",
        reported_train=reported_train,
        reported_val=reported_val,
        source="client",
    )
    data = Data(x_train, y_train, x_val, y_val, x_raw, more_train or more_val)
    report = build(
        model, data, settings, _device(model, device), lambda _share, _stage: None, lambda: None
    )
    target = _target(run, client)
    if target is not None:
        owner, run_id = target
        if not owner.post_probe(run_id, report, timeout):
            log.warning("lossgap: the probe report was not stored; it is returned to you")
    return report
