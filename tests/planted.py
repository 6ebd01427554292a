"""Small real trainings with a known cause planted, for the re-evaluation tests (needs torch).

Each returns what a user would upload: the loss history, a TorchScript checkpoint and the data.
"""

import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn


@dataclass
class Planted:
    history: dict[str, Any]
    model: bytes
    data: bytes
    arrays: dict[str, np.ndarray]


def blobs(n: int, d: int, k: int, seed: int, spread: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, spread, (k, d))
    y = rng.integers(0, k, n)
    x = centers[y] + rng.normal(0, 1.0, (n, d))
    return x.astype(np.float32), y.astype(np.int64)


def train(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    k: int,
    dropout: float = 0.0,
    epochs: int = 20,
    batch_size: int = 32,
    hidden: int = 128,
    seed: int = 0,
) -> tuple[nn.Module, list[dict[str, float]]]:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(x_train.shape[1], hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, k)]
    model = nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(x_val), torch.from_numpy(y_val)
    rng = np.random.default_rng(seed)
    rows = []
    for epoch in range(1, epochs + 1):
        model.train()
        losses = []
        for b in range(math.ceil(len(xt) / batch_size)):
            index = torch.from_numpy(
                rng.permutation(len(xt))[b * batch_size : (b + 1) * batch_size]
            )
            loss = nn.functional.cross_entropy(model(xt[index]), yt[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            val_loss = float(nn.functional.cross_entropy(model(xv), yv))
        rows.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "val_loss": val_loss})
    return model, rows


def script_bytes(model: nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(model), buffer)
    return buffer.getvalue()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def leakage(seed: int = 0, epochs: int = 25) -> Planted:
    """Every validation sample also sits in the training set."""
    k = 4
    x, y = blobs(900, 16, k, seed)
    x_val, y_val = x[:200], y[:200]
    x_train, y_train = np.concatenate([x[200:500], x_val]), np.concatenate([y[200:500], y_val])
    model, rows = train(x_train, y_train, x_val, y_val, k=k, epochs=epochs, seed=seed)
    arrays = {"x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}
    config = {"batch_size": 32, "num_classes": k, "loss": "cross_entropy", "val_size": 200}
    return Planted(
        {"name": f"leaky-{seed}", "task": "classification", "config": config, "epochs": rows},
        script_bytes(model),
        npz_bytes(**arrays),
        arrays,
    )
