"""The second generator's training loop: the habits of real scripts the first generator lacks
(AdamW, RMSprop, SGD with momentum; step, one-cycle, warm-up and reduce-on-plateau schedules;
gradient clipping; validation every k epochs; early stopping) and, beside what a script logs,
the oracle numbers the counterfactual labels are computed from: the loss on a held-back test
set at every epoch, the training set scored in eval mode, and the test loss when training is
continued past the run's end.
"""

import copy
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from bench.scenarios.second.data import Data
from bench.scenarios.second.nets import build

# Continuing an annealed schedule at its final, near-zero rate shows nothing: continue at this
# share of the initial rate instead (a user who "trains longer" re-runs a longer schedule).
CONTINUE_LR_SHARE = 0.3
ANNEALED = ("onecycle", "cosine", "warmup")


@dataclass(frozen=True)
class Recipe:
    arch: str = "gru"
    width: int = 32
    dropout: float = 0.0
    batch_norm: bool = False
    optimizer: str = "adamw"
    lr: float = 3e-3
    weight_decay: float = 1e-2
    schedule: str = "none"  # none | step | onecycle | warmup | plateau | cosine
    epochs: int = 20
    batch_size: int = 64
    clip: float | None = None
    patience: int | None = None
    val_every: int = 1
    label_smoothing: float = 0.0
    augment: str = "none"  # none | noise | shift | mask
    augment_strength: float = 0.0
    reduction: str = "mean"  # "sum" plants a loss computed differently
    aggregation: str = "epoch_mean"  # "last_batch" plants one too
    shuffle: bool = True
    lr_growth: float = 1.0
    log_steps: bool = True

    @property
    def behaviour(self) -> dict[str, bool]:
        """What makes the training loss differ from an eval-mode pass, for the benign labels:
        every run that has it, whatever was planted."""
        return {
            "regularized": self.dropout > 0 or self.label_smoothing > 0,
            "augmented": self.augment != "none",
            "batch_norm": self.batch_norm,
        }

    def scaled_lr(self, factor: float) -> "Recipe":
        return replace(self, lr=self.lr * factor)


def _optimizer(recipe: Recipe, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=recipe.lr, momentum=0.9, nesterov=True, weight_decay=recipe.weight_decay
        )
    if recipe.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    return torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)


def _scheduler(recipe: Recipe, optimizer: torch.optim.Optimizer, steps_per_epoch: int) -> Any:
    s = torch.optim.lr_scheduler
    if recipe.schedule == "step":
        return s.StepLR(optimizer, max(1, recipe.epochs // 3), 0.3)
    if recipe.schedule == "onecycle":
        return s.OneCycleLR(optimizer, recipe.lr, total_steps=recipe.epochs * steps_per_epoch)
    if recipe.schedule == "warmup":
        warm = max(1, recipe.epochs // 5)
        return s.SequentialLR(
            optimizer,
            [
                s.LinearLR(optimizer, 0.1, 1.0, warm),
                s.CosineAnnealingLR(optimizer, max(1, recipe.epochs - warm)),
            ],
            [warm],
        )
    if recipe.schedule == "plateau":
        return s.ReduceLROnPlateau(optimizer, factor=0.3, patience=3)
    if recipe.schedule == "cosine":
        return s.CosineAnnealingLR(optimizer, recipe.epochs)
    return None


def _criterion(task: str, smoothing: float = 0.0, reduction: str = "mean") -> nn.Module:
    if task == "classification":
        return nn.CrossEntropyLoss(label_smoothing=smoothing, reduction=reduction)
    return nn.MSELoss(reduction=reduction)


def _targets(data: Data, y: np.ndarray) -> torch.Tensor:
    if data.task == "classification":
        return torch.as_tensor(y, dtype=torch.long)
    return torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)


def augment(
    x: torch.Tensor, recipe: Recipe, generator: torch.Generator | None = None
) -> torch.Tensor:
    if recipe.augment == "noise":
        return x + recipe.augment_strength * torch.randn(x.shape, generator=generator)
    if recipe.augment == "mask":
        return x * (torch.rand(x.shape, generator=generator) > recipe.augment_strength)
    if recipe.augment == "shift":  # roll along time (sequences) or both image axes
        shift = int(torch.randint(-3, 4, (1,), generator=generator))
        dims = (2, 3) if x.ndim == 4 else (1,)
        return torch.roll(x, (shift,) * len(dims), dims) + 0.3 * recipe.augment_strength * (
            torch.randn(x.shape, generator=generator)
        )
    return x


@torch.no_grad()
def _score(model: nn.Module, x: torch.Tensor, y: torch.Tensor, task: str) -> tuple[float, float]:
    model.eval()
    losses, correct = [], 0.0
    for start in range(0, len(x), 512):
        out = model(x[start : start + 512])
        target = y[start : start + 512]
        losses.append(float(_criterion(task, reduction="sum")(out, target)))
        if task == "classification":
            correct += float((out.argmax(1) == target).float().sum())
    width = 1 if task == "classification" else y.shape[1]
    loss = sum(losses) / (len(x) * width)
    return loss, correct / len(x) if task == "classification" else math.nan


def train(data: Data, recipe: Recipe, seed: int, extra_epochs: int = 0) -> dict[str, Any]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    outputs = data.num_classes if data.task == "classification" else 1
    model = build(
        recipe.arch,
        data.x_train.shape[1:],
        outputs,
        recipe.width,
        recipe.dropout,
        recipe.batch_norm,
    )
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = _optimizer(recipe, params)
    xt, yt = torch.as_tensor(data.x_train), _targets(data, data.y_train)
    xv, yv = torch.as_tensor(data.x_val), _targets(data, data.y_val)
    xs, ys = torch.as_tensor(data.x_test), _targets(data, data.y_test)
    n = len(xt)
    batches = max(1, n // recipe.batch_size)  # drop the ragged last batch, as most loaders do
    schedule = _scheduler(recipe, optimizer, batches)
    crit = _criterion(data.task, recipe.label_smoothing, recipe.reduction)
    epochs: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    oracle: list[dict[str, float]] = []
    continued: list[float] = []
    best, since_best, step, stopped = math.inf, 0, 0, False
    total = recipe.epochs + extra_epochs
    logged_end: nn.Module | None = None  # the model as the logged run left it
    for epoch in range(1, total + 1):
        extra = epoch > recipe.epochs or stopped
        if extra and logged_end is None:
            logged_end = copy.deepcopy(model)
        if extra and not continued:
            last = optimizer.param_groups[0]["lr"]
            if recipe.schedule in ANNEALED:
                last = max(last, CONTINUE_LR_SHARE * recipe.lr)
            for group in optimizer.param_groups:
                group["lr"] = last
        model.train()
        order = rng.permutation(n) if recipe.shuffle else np.argsort(data.y_train, kind="stable")
        losses: list[float] = []
        correct = 0.0
        for b in range(batches):
            index = torch.as_tensor(order[b * recipe.batch_size : (b + 1) * recipe.batch_size])
            xb, yb = augment(xt[index], recipe), yt[index]
            out = model(xb)
            loss = crit(out, yb)
            optimizer.zero_grad()
            loss.backward()
            if recipe.clip:
                nn.utils.clip_grad_norm_(params, recipe.clip)
            optimizer.step()
            if schedule is not None and recipe.schedule == "onecycle" and not extra:
                schedule.step()
            value = float(loss.item())
            losses.append(value)
            if data.task == "classification":
                correct += float((out.argmax(1) == yb).float().sum())
            if not extra:
                step += 1
                steps.append(
                    {
                        "step": step,
                        "epoch": round(epoch - 1 + (b + 1) / batches, 6),
                        "train_loss": value,
                    }
                )
        test_loss, _ = _score(model, xs, ys, data.task)
        if extra:
            continued.append(test_loss)
            continue
        val_loss, val_acc = _score(model, xv, yv, data.task)
        train_eval, _ = _score(model, xt, yt, data.task)
        if schedule is not None and recipe.schedule == "plateau":
            schedule.step(val_loss)
        elif schedule is not None and recipe.schedule != "onecycle":
            schedule.step()
        for group in optimizer.param_groups:
            group["lr"] *= recipe.lr_growth
        reported = losses[-1] if recipe.aggregation == "last_batch" else float(np.mean(losses))
        row: dict[str, Any] = {"epoch": epoch, "train_loss": reported}
        if data.task == "classification":
            row["train_accuracy"] = correct / min(n, batches * recipe.batch_size)
        validated = epoch % recipe.val_every == 0 or epoch == recipe.epochs
        if validated:
            row["val_loss"] = val_loss
            if data.task == "classification":
                row["val_accuracy"] = val_acc
        epochs.append(row)
        tail = max(1, len(losses) // 10)
        oracle.append(
            {
                "test_loss": test_loss,
                "val_loss": val_loss,
                "train_eval": train_eval,
                "end_steps": float(np.mean(losses[-tail:])),
                "mean_steps": float(np.mean(losses)),
            }
        )
        if not math.isfinite(reported) or not math.isfinite(val_loss):
            break
        if recipe.patience is not None and validated:
            if val_loss < best - 1e-12:
                best, since_best = val_loss, 0
            else:
                since_best += 1
                stopped = since_best >= recipe.patience
        if stopped and extra_epochs == 0:
            break
    return {
        "epochs": epochs,
        "steps": steps if recipe.log_steps else [],
        "oracle": oracle,
        "continued": continued,
        "stopped_early": stopped,
        # What a re-evaluation of the run's last checkpoint sees: never the continuation.
        "model": logged_end if logged_end is not None else model,
    }
