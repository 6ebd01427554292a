"""Validation samples that also sit in the training set: exact copies and near copies.

Exact copies are found by comparing whole rows as bytes (vectorized, no hashing loop). Near
copies by cosine similarity of the inputs centred on the training mean (so images that merely
share a bright background do not match), searched in chunks on the device so memory stays
bounded: `val_chunk x train_chunk` similarities at a time. Very wide inputs are first projected to
`PROJECTED` dimensions with a fixed random projection.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

PROJECTED = 2048
# Training samples drawn to measure how often copies occur by chance: the share is known to a
# couple of points, at a fraction of the cost of the validation search on large sets.
CHANCE_SAMPLE = 1000
CHANCE_MIN_TRAIN = 4  # fewer training samples say nothing of how often copies occur


@dataclass(frozen=True)
class Duplicates:
    exact: np.ndarray  # bool per validation sample
    near: np.ndarray  # bool per validation sample (exact ones included)
    similarity: np.ndarray  # best cosine similarity to any training sample
    match: np.ndarray  # index of that training sample


def _rows(x: np.ndarray) -> np.ndarray:
    flat = np.ascontiguousarray(x.reshape(len(x), -1))
    return flat.view(np.dtype((np.void, flat.dtype.itemsize * flat.shape[1]))).ravel()


def exact_copies(x_train: np.ndarray, x_val: np.ndarray) -> np.ndarray:
    return np.isin(_rows(x_val), _rows(x_train))


def nearest(
    x_train: np.ndarray,
    x_val: np.ndarray,
    device: torch.device,
    val_chunk: int = 2048,
    train_chunk: int = 16384,
    tick: Callable[[float], None] | None = None,
    itself: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Best cosine similarity of each validation sample to the training set, and its index;
    `tick(share)` hears each chunk of validation samples done. `itself` (queries drawn from the
    training set) holds each query's own index there, which is not a match."""
    width = int(np.prod(x_train.shape[1:]))
    generator = torch.Generator().manual_seed(0)
    projection = (
        torch.randn(width, PROJECTED, generator=generator).to(device) / PROJECTED**0.5
        if width > PROJECTED
        else None
    )
    mean = torch.from_numpy(x_train.reshape(len(x_train), -1).mean(axis=0, dtype=np.float64))
    mean = mean.to(device, torch.float32)

    def prepare(block: np.ndarray) -> torch.Tensor:
        z = torch.from_numpy(block.reshape(len(block), -1)).to(device, torch.float32) - mean
        if projection is not None:
            z = z @ projection
        return torch.nn.functional.normalize(z, dim=1)

    train = [prepare(x_train[s : s + train_chunk]) for s in range(0, len(x_train), train_chunk)]
    best = torch.full((len(x_val),), -2.0, device=device)
    where = torch.zeros(len(x_val), dtype=torch.long, device=device)
    # One similarity buffer for every block: a fresh one per block costs page faults on CPU.
    buffer = torch.empty(min(val_chunk, len(x_val)) * max(len(b) for b in train), device=device)
    own = torch.from_numpy(itself).to(device) if itself is not None else None
    with torch.inference_mode():
        for v in range(0, len(x_val), val_chunk):
            query = prepare(x_val[v : v + val_chunk])
            offset = 0
            for block in train:
                sims = buffer[: len(query) * len(block)].view(len(query), len(block))
                torch.mm(query, block.T, out=sims)
                if own is not None:
                    column = own[v : v + len(query)] - offset
                    inside = torch.nonzero((column >= 0) & (column < len(block))).ravel()
                    sims[inside, column[inside]] = -2.0
                value, index = sims.max(dim=1)
                better = value > best[v : v + len(query)]
                best[v : v + len(query)] = torch.where(better, value, best[v : v + len(query)])
                where[v : v + len(query)] = torch.where(
                    better, index + offset, where[v : v + len(query)]
                )
                offset += len(block)
            if tick is not None:
                tick(len(query) / len(x_val))
    return best.cpu().numpy().astype(np.float64), where.cpu().numpy()


def chance_copies(
    x_train: np.ndarray, device: torch.device, threshold: float, size: int
) -> tuple[float, int] | None:
    """How often a sample has a copy by chance in this data: the share of `size` training
    samples (drawn with a fixed seed) with an exact or near copy among all the other training
    samples, and how many were drawn. Small tabular sets have many near copies of their own; a
    validation split drawn from the same data has as many, and they leak nothing that an
    independent test set would not also hold. Each drawn sample is searched for in as many
    training samples as a validation sample is (all but itself): searched for in fewer, it
    finds fewer copies, and a small set's own copies would pass for leakage. None when
    training has too few samples to say."""
    size = min(size, CHANCE_SAMPLE, len(x_train))
    if len(x_train) < CHANCE_MIN_TRAIN or size < 2:
        return None
    drawn = np.sort(np.random.default_rng(0).choice(len(x_train), size, replace=False))
    similarity, _ = nearest(x_train, x_train[drawn], device, itself=drawn)
    _, inverse, counts = np.unique(_rows(x_train), return_inverse=True, return_counts=True)
    exact = counts[inverse.ravel()][drawn] > 1
    return float((exact | (similarity >= threshold)).mean()), size


def find(
    x_train: np.ndarray,
    x_val: np.ndarray,
    device: torch.device,
    threshold: float,
    tick: Callable[[float], None] | None = None,
) -> Duplicates:
    exact = exact_copies(x_train, x_val)
    similarity, match = nearest(x_train, x_val, device, tick=tick)
    similarity = np.where(exact, 1.0, similarity)
    return Duplicates(exact, exact | (similarity >= threshold), similarity, match)
