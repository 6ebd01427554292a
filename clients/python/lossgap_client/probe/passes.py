"""Score every sample of a split with the model in a chosen mode, without changing the model.

Modes: `eval`; `train` (dropout on, batch norm on batch statistics); `dropout_only` and
`batchnorm_only` (one of the two on, the other in eval mode), which split a train-mode effect
between its causes. Batch-norm running statistics are snapshotted and restored around every pass
and everything runs under `inference_mode`, so no pass changes the weights or the buffers. Train-
mode passes use the batch size the model was trained with (batch statistics depend on it).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from lossgap_client.probe.errors import ProbeError
from lossgap_client.probe.losses import Criterion

Mode = Literal["eval", "train", "dropout_only", "batchnorm_only"]
DROPOUT = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")


@dataclass(frozen=True)
class PassResult:
    losses: np.ndarray  # per-sample loss, float64
    p_label: np.ndarray | None = None  # probability of the given label (classification)
    pred: np.ndarray | None = None  # arg-max class
    p_pred: np.ndarray | None = None  # its probability


def _kind(module: torch.nn.Module) -> str:
    return str(getattr(module, "original_name", type(module).__name__))


def is_dropout(module: torch.nn.Module) -> bool:
    return _kind(module) in DROPOUT


def is_batchnorm(module: torch.nn.Module) -> bool:
    kind = _kind(module)
    return kind.startswith("BatchNorm") or kind == "SyncBatchNorm"


def set_mode(model: torch.nn.Module, mode: Mode) -> None:
    model.train(mode == "train")
    if mode in ("dropout_only", "batchnorm_only"):
        wanted = is_dropout if mode == "dropout_only" else is_batchnorm
        for module in model.modules():
            if wanted(module):
                module.train(True)


@contextmanager
def untouched(model: torch.nn.Module) -> Iterator[None]:
    """Restore buffers (running statistics, counters) and training flags after the block."""
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    flags = [(m, m.training) for m in model.modules()]
    try:
        yield
    finally:
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(buffers[name])
        for module, flag in flags:
            module.training = flag


def batches(n: int, size: int) -> list[tuple[int, int]]:
    """Batch bounds; a last batch of one sample joins the previous one (batch norm needs two)."""
    bounds = [(s, min(s + size, n)) for s in range(0, n, size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def score(
    model: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    criterion: Criterion,
    device: torch.device,
    batch_size: int,
    mode: Mode = "eval",
    tick: Callable[[int], None] | None = None,
    probabilities: bool = False,
) -> PassResult:
    """Per-sample losses; with `probabilities`, also what the model gives the label and its
    arg-max (label-noise evidence; it costs a softmax per batch, so only passes that need it)."""
    cuda = device.type == "cuda"
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext()
    losses, p_label, pred, p_pred = [], [], [], []
    inputs, targets = torch.from_numpy(x), torch.from_numpy(np.asarray(y))
    with untouched(model), torch.inference_mode():
        set_mode(model, mode)
        for start, end in batches(len(x), batch_size):
            xb = inputs[start:end].to(device, non_blocking=True)
            yb = targets[start:end].to(device, non_blocking=True)
            try:
                with autocast:
                    out = model(xb)
            except Exception as exc:
                raise ProbeError(
                    f"The model failed on a batch of inputs of shape {tuple(xb.shape)} "
                    f"({str(exc).strip().splitlines()[-1][:300]}); upload inputs shaped the way "
                    "the model was trained on them."
                ) from exc
            out = out.float()
            losses.append(criterion.per_sample(out, yb))
            if probabilities and criterion.probabilities is not None:
                prob = criterion.probabilities(out)
                top = prob.max(dim=1)
                p_label.append(prob.gather(1, yb.long().reshape(-1, 1)).squeeze(1))
                pred.append(top.indices)
                p_pred.append(top.values)
            if tick is not None:
                tick(end - start)
    labels = torch.cat(pred).cpu().numpy() if pred else None
    return PassResult(
        _numpy(losses),
        _numpy(p_label) if p_label else None,
        labels,
        _numpy(p_pred) if p_pred else None,
    )


def _numpy(parts: list[torch.Tensor]) -> np.ndarray:
    return torch.cat(parts).double().cpu().numpy() if parts else np.empty(0)


def output_width(model: torch.nn.Module, x: np.ndarray, device: torch.device) -> int:
    """Run two samples in eval mode to learn the output's width (and catch bad input shapes)."""
    sample = torch.from_numpy(x[:2]).to(device)
    with untouched(model), torch.inference_mode():
        model.eval()
        try:
            out = model(sample)
        except Exception as exc:
            raise ProbeError(
                f"The model rejected inputs of shape {tuple(sample.shape)} "
                f"({str(exc).strip().splitlines()[-1][:300]}): x_train and x_val must be shaped "
                "the way the model takes them (first axis: samples)."
            ) from exc
    return 1 if out.ndim == 1 else int(np.prod(out.shape[1:]))
