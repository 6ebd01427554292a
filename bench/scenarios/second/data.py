"""The second generator's data: signals, sequences, images of shapes and sklearn's small bundled
sets, each with a held-back oracle test set that the user of a run never sees.

Nothing here is shared with the first generator (which trains MLPs on digits, blobs, breast
cancer and Friedman data): other inputs, other shapes of tensors, other sizes.
"""

from dataclasses import dataclass, replace

import numpy as np
from sklearn.datasets import load_diabetes, load_iris, load_wine

FAMILIES = ("signals", "sequences", "shapes", "small_tabular")


@dataclass(frozen=True)
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray  # the oracle: labels a counterfactual is judged on
    y_test: np.ndarray
    task: str  # classification | regression
    num_classes: int
    family: str
    name: str

    def with_train(self, x: np.ndarray, y: np.ndarray) -> "Data":
        return replace(self, x_train=x, y_train=y)


def _split(
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    n_val: int,
    n_test: int,
    task: str,
    k: int,
    family: str,
    name: str,
) -> Data:
    order = rng.permutation(len(x))
    val, test, train = order[:n_val], order[n_val : n_val + n_test], order[n_val + n_test :]
    mean = x[train].mean(axis=0, keepdims=True)
    std = x[train].std(axis=0, keepdims=True) + 1e-6
    x = ((x - mean) / std).astype(np.float32)
    y = y.astype(np.int64 if task == "classification" else np.float32)
    return Data(x[train], y[train], x[val], y[val], x[test], y[test], task, k, family, name)


def signals(seed: int, n: int = 1800, n_val: int = 300, length: int = 48) -> Data:
    """Four classes of noisy oscillations told apart by frequency and envelope; (n, length, 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    t = np.linspace(0, 1, length)
    freq = np.array([3.0, 4.5, 6.0, 7.5])[y][:, None] * rng.uniform(0.85, 1.15, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    envelope = np.where((y % 2 == 0)[:, None], 1.0, 0.4 + t[None, :])
    x = envelope * np.sin(2 * np.pi * freq * t[None, :] + phase) + rng.normal(0, 0.9, (n, length))
    return _split(x[:, :, None], y, rng, n_val, 600, "classification", 4, "signals", "signals")


def sequences(seed: int, n: int = 1800, n_val: int = 300, length: int = 24) -> Data:
    """Regression: a decaying sum of a random walk's steps plus a nonlinearity; (n, length, 1)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, 1, (n, length))
    weights = 0.85 ** np.arange(length)[::-1]
    target = steps @ weights / 2 + 0.5 * np.tanh(steps[:, -3:].sum(axis=1)) + rng.normal(0, 0.3, n)
    target = (target - target.mean()) / target.std()
    return _split(
        steps[:, :, None], target, rng, n_val, 600, "regression", 0, "sequences", "sequences"
    )


def shapes(seed: int, n: int = 1400, n_val: int = 300, side: int = 12) -> Data:
    """Images of a square, a disc, a cross or a bar at random places, in noise; (n, 1, s, s)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    rows, cols = np.mgrid[0:side, 0:side]
    images = np.zeros((n, side, side))
    for i, label in enumerate(y):
        r, c = rng.integers(3, side - 3, 2)
        size = rng.integers(2, 4)
        if label == 0:
            mask = (np.abs(rows - r) <= size) & (np.abs(cols - c) <= size)
        elif label == 1:
            mask = (rows - r) ** 2 + (cols - c) ** 2 <= size**2
        elif label == 2:
            mask = ((rows == r) & (np.abs(cols - c) <= size)) | (
                (cols == c) & (np.abs(rows - r) <= size)
            )
        else:
            mask = (np.abs(rows - r) <= 0) & (np.abs(cols - c) <= size + 1)
        images[i][mask] = 1.0
    images += rng.normal(0, 0.6, images.shape)
    return _split(images[:, None], y, rng, n_val, 600, "classification", 4, "shapes", "shapes")


def small_tabular(seed: int, which: int) -> Data:
    """sklearn's small bundled sets: wine, iris (classification), diabetes (regression)."""
    rng = np.random.default_rng(seed)
    name = ("wine", "iris", "diabetes")[which % 3]
    if name == "diabetes":
        x, y = load_diabetes(return_X_y=True)
        y = (y - y.mean()) / y.std()
        return _split(x, y, rng, 90, 90, "regression", 0, "small_tabular", name)
    x, y = load_wine(return_X_y=True) if name == "wine" else load_iris(return_X_y=True)
    return _split(x, y, rng, 36, 36, "classification", 3, "small_tabular", name)


def load(family: str, seed: int, variant: int, n_val: int | None = None) -> Data:
    if family == "small_tabular":
        return small_tabular(seed, variant)
    make = {"signals": signals, "sequences": sequences, "shapes": shapes}[family]
    return make(seed) if n_val is None else make(seed, n_val=n_val)
