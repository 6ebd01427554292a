"""Per-sample versions of the training criteria a run can name, and how to read predictions.

Every pass scores samples one by one (`reduction="none"`), in float32 even under mixed precision,
so means, standard errors and tests all come from the same per-sample numbers.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812

from lossgap_client.probe.errors import ProbeError

PerSample = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES = ("cross_entropy", "nll", "bce", "mse", "mae", "huber", "smooth_l1")


@dataclass(frozen=True)
class Criterion:
    name: str
    classification: bool
    per_sample: PerSample
    # Class probabilities from the model's output (classification only).
    probabilities: Callable[[torch.Tensor], torch.Tensor] | None = None


def _flat(values: torch.Tensor) -> torch.Tensor:
    return values.reshape(values.shape[0], -1).mean(dim=1)


def _regression(fn: Callable[..., torch.Tensor]) -> PerSample:
    def per_sample(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target.to(output.dtype).reshape(output.shape)
        return _flat(fn(output, target, reduction="none"))

    return per_sample


def _bce(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    target = target.to(output.dtype).reshape(output.shape)
    return _flat(F.binary_cross_entropy_with_logits(output, target, reduction="none"))


def _binary_probabilities(output: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(output.reshape(output.shape[0]))
    return torch.stack([1 - p, p], dim=1)


def criterion(name: str, label_smoothing: float = 0.0) -> Criterion:
    if name == "cross_entropy":
        return Criterion(
            name,
            True,
            lambda out, y: F.cross_entropy(
                out, y.long(), reduction="none", label_smoothing=label_smoothing
            ),
            lambda out: torch.softmax(out, dim=1),
        )
    if name == "nll":
        return Criterion(
            name, True, lambda out, y: F.nll_loss(out, y.long(), reduction="none"), torch.exp
        )
    if name == "bce":
        return Criterion(name, True, _bce, _binary_probabilities)
    regression: dict[str, Callable[..., torch.Tensor]] = {
        "mse": F.mse_loss,
        "mae": F.l1_loss,
        "huber": F.huber_loss,
        "smooth_l1": F.smooth_l1_loss,
    }
    if name in regression:
        return Criterion(name, False, _regression(regression[name]))
    raise ProbeError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
