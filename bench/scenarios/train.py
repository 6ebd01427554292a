"""A small, honest PyTorch training loop that can plant each cause of the catalog on purpose.

It logs what a training script logs (epoch-mean training loss, validation loss, accuracies, per
step losses) and, beside it, oracle measurements a user never has (the training set scored in
eval mode at each epoch's end, the training loss of the last batches of each epoch), which the
generator uses to verify that a planted phenomenon is really visible and to label the causes
present in the run.
"""

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

# Continuing an annealed schedule at its final, near-zero rate shows nothing: continue at this
# share of the initial rate instead (a user who "trains longer" re-runs a longer schedule), as
# the second generator does.
CONTINUE_LR_SHARE = 0.3


@dataclass
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    task: str  # classification | regression
    num_classes: int


@dataclass
class Recipe:
    """Everything that shapes one training run."""

    hidden: tuple[int, ...] = (64,)
    dropout: float = 0.0
    batch_norm: bool = False
    cnn: bool = False
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    l2_in_loss: float = 0.0
    label_smoothing: float = 0.0  # training criterion only
    augment_noise: float = 0.0  # Gaussian noise on training inputs
    augment_mask: float = 0.0  # share of training input features zeroed
    mixup: float = 0.0
    batch_size: int = 32
    epochs: int = 30
    cosine: bool = False  # anneal the learning rate to zero over the run
    lr_growth: float = 1.0  # multiply the learning rate by this after every epoch
    shuffle: bool = True
    loss_reduction: str = "mean"  # "sum" plants a loss computed differently
    aggregation: str = "epoch_mean"  # "last_batch" plants a loss computed differently
    early_stopping_patience: int | None = None
    frozen: bool = False
    nan_after_epoch: int | None = None  # simulate a diverged run: NaN from this epoch on
    log_steps: bool = True
    extra_config: dict[str, Any] = field(default_factory=dict)


def _model(recipe: Recipe, inputs: int, outputs: int) -> nn.Module:
    layers: list[nn.Module] = []
    if recipe.cnn:
        side = math.isqrt(inputs)
        layers += [nn.Unflatten(1, (1, side, side)), nn.Conv2d(1, 16, 3, padding=1)]
        if recipe.batch_norm:
            layers.append(nn.BatchNorm2d(16))
        layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
        if recipe.dropout:
            layers.append(nn.Dropout(recipe.dropout))
        width = 16 * (side // 2) ** 2
    else:
        width = inputs
    for size in recipe.hidden:
        layers.append(nn.Linear(width, size))
        if recipe.batch_norm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(nn.ReLU())
        if recipe.dropout:
            layers.append(nn.Dropout(recipe.dropout))
        width = size
    layers.append(nn.Linear(width, outputs))
    model = nn.Sequential(*layers)
    if recipe.frozen:
        for layer in list(model)[:-1]:
            for parameter in layer.parameters():
                parameter.requires_grad_(False)
    return model


def _criterion(split: Split, smoothing: float, reduction: str) -> nn.Module:
    if split.task == "classification":
        return nn.CrossEntropyLoss(label_smoothing=smoothing, reduction=reduction)
    return nn.MSELoss(reduction=reduction)


def _targets(split: Split, y: np.ndarray) -> torch.Tensor:
    if split.task == "classification":
        return torch.as_tensor(y, dtype=torch.long)
    return torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)


@torch.no_grad()
def _score(model: nn.Module, x: torch.Tensor, y: torch.Tensor, split: Split) -> tuple[float, float]:
    out = model(x)
    loss = float(_criterion(split, 0.0, "mean")(out, y))
    acc = float((out.argmax(1) == y).float().mean()) if split.task == "classification" else math.nan
    return loss, acc


def train(split: Split, recipe: Recipe, seed: int, extra_epochs: int = 0) -> dict[str, Any]:
    """Train and log as a script would. With `extra_epochs`, training then goes on unlogged
    (past an early stop too) for the counterfactual "train longer": the validation loss of
    every extra epoch is returned as `continued`; the logged part is unchanged."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    outputs = split.num_classes if split.task == "classification" else 1
    model = _model(recipe, split.x_train.shape[1], outputs)
    params = [p for p in model.parameters() if p.requires_grad]
    if recipe.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay
        )
    else:
        optimizer = torch.optim.Adam(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    train_loss_fn = _criterion(split, recipe.label_smoothing, recipe.loss_reduction)
    schedule = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, recipe.epochs)
        if recipe.cosine
        else None
    )
    xt = torch.as_tensor(split.x_train, dtype=torch.float32)
    yt = _targets(split, split.y_train)
    xv = torch.as_tensor(split.x_val, dtype=torch.float32)
    yv = _targets(split, split.y_val)
    n = len(xt)
    batches = math.ceil(n / recipe.batch_size)
    epochs, steps, oracle = [], [], []
    best, since_best, step = math.inf, 0, 0
    continued: list[float] = []
    logged_end: nn.Module | None = None  # the model as the logged run left it
    for epoch in range(1, recipe.epochs + extra_epochs + 1):
        extra = epoch > recipe.epochs or logged_end is not None
        if extra and logged_end is None:
            logged_end = copy.deepcopy(model)
        if extra and not continued and recipe.cosine:
            for group in optimizer.param_groups:
                group["lr"] = max(group["lr"], CONTINUE_LR_SHARE * recipe.lr)
        model.train()
        order = rng.permutation(n) if recipe.shuffle else np.argsort(split.y_train, kind="stable")
        losses, correct = [], 0.0
        for b in range(batches):
            index = torch.as_tensor(order[b * recipe.batch_size : (b + 1) * recipe.batch_size])
            if len(index) < 2 and recipe.batch_norm:
                continue
            xb, yb = xt[index], yt[index]
            if recipe.augment_noise:
                xb = xb + recipe.augment_noise * torch.randn_like(xb)
            if recipe.augment_mask:
                xb = xb * (torch.rand_like(xb) > recipe.augment_mask)
            if recipe.mixup and split.task == "classification":
                lam = float(rng.beta(recipe.mixup, recipe.mixup))
                perm = torch.randperm(len(xb))
                out = model(lam * xb + (1 - lam) * xb[perm])
                loss = lam * train_loss_fn(out, yb) + (1 - lam) * train_loss_fn(out, yb[perm])
            else:
                out = model(xb)
                loss = train_loss_fn(out, yb)
            reported = loss
            if recipe.l2_in_loss:
                reported = loss + recipe.l2_in_loss * sum((p**2).sum() for p in params)
            optimizer.zero_grad()
            reported.backward()
            optimizer.step()
            value = reported.item()
            losses.append(value)
            if split.task == "classification":
                correct += float((out.argmax(1) == yb).float().sum())
            step += 1
            if extra:
                continue
            steps.append(
                {
                    "step": step,
                    "epoch": round(epoch - 1 + (b + 1) / batches, 6),
                    "train_loss": value,
                }
            )
        model.eval()
        if extra:
            continued.append(_score(model, xv, yv, split)[0])
            continue
        if schedule is not None:
            schedule.step()
        for group in optimizer.param_groups:
            group["lr"] *= recipe.lr_growth
        val_loss, val_acc = _score(model, xv, yv, split)
        train_eval, _ = _score(model, xt, yt, split)
        reported_train = (
            losses[-1] if recipe.aggregation == "last_batch" else float(np.mean(losses))
        )
        tail = max(1, len(losses) // 10)
        row: dict[str, Any] = {"epoch": epoch, "train_loss": reported_train, "val_loss": val_loss}
        if split.task == "classification":
            row["train_accuracy"] = correct / n
            row["val_accuracy"] = val_acc
        if recipe.nan_after_epoch is not None and epoch >= recipe.nan_after_epoch:
            row["train_loss"] = math.nan
            row["val_loss"] = math.nan
        epochs.append(row)
        oracle.append(
            {
                "train_eval": train_eval,
                "train_end_steps": float(np.mean(losses[-tail:])),
                "train_mean_steps": float(np.mean(losses)),
            }
        )
        if not all(math.isfinite(v) for v in (row["train_loss"], row["val_loss"])):
            if recipe.nan_after_epoch is not None and epoch >= recipe.nan_after_epoch + 2:
                break
            continue
        if recipe.early_stopping_patience is not None:
            if val_loss < best - 1e-12:
                best, since_best = val_loss, 0
            else:
                since_best += 1
                if since_best >= recipe.early_stopping_patience:
                    if not extra_epochs:
                        break
                    logged_end = copy.deepcopy(model)
    return {
        "epochs": epochs,
        "steps": steps if recipe.log_steps else [],
        "oracle": oracle,
        "continued": continued,
        "stopped_early": len(epochs) < recipe.epochs,
        "model": logged_end if logged_end is not None else model,
    }


def augmented(split: Split, recipe: Recipe, seed: int) -> np.ndarray | None:
    """One augmented draw of the training inputs, as a user would save them beside the raw ones."""
    if not (recipe.augment_noise or recipe.augment_mask):
        return None
    generator = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(split.x_train, dtype=torch.float32)
    if recipe.augment_noise:
        x = x + recipe.augment_noise * torch.randn(x.shape, generator=generator)
    if recipe.augment_mask:
        x = x * (torch.rand(x.shape, generator=generator) > recipe.augment_mask)
    return x.numpy()
