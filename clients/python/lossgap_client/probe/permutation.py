"""The shuffled-split check: is the validation split's mean loss what a random split would give?

Pool the per-sample losses of both splits (eval mode), draw random splits of the validation
size, and compare. A validation set that is easier (or leaked) scores far below the random
splits; one transformed differently (preprocessing) far above.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_SAMPLED_VALUES = 10_000_000


@dataclass(frozen=True)
class ShuffledSplit:
    val_mean: float
    null_mean: float
    null_sd: float
    z: float
    p_value: float
    permutations: int


def capped(pooled: int, permutations: int) -> int:
    """Past ~10M sampled values the null distribution is known far beyond what the analysis
    reads (z, and p to 1/200); the work is capped so large splits stay cheap."""
    return max(2, min(permutations, max(200, MAX_SAMPLED_VALUES // max(pooled, 1))))


def sampled_values(pooled: int, permutations: int) -> int:
    """How many values `test` draws: its cost."""
    return capped(pooled, permutations) * pooled


def test(
    train_losses: np.ndarray,
    val_losses: np.ndarray,
    permutations: int,
    seed: int = 0,
    tick: Callable[[float], None] | None = None,
) -> ShuffledSplit:
    """`tick(share)` hears each batch of permutations done."""
    pooled = np.concatenate([train_losses, val_losses])
    pooled = pooled[np.isfinite(pooled)]
    n_val = int(np.isfinite(val_losses).sum())
    observed = float(np.nanmean(val_losses))
    permutations = capped(len(pooled), permutations)
    rng = np.random.default_rng(seed)
    means = np.empty(permutations)
    batch = max(1, 2_000_000 // max(len(pooled), 1))
    for start in range(0, permutations, batch):
        count = min(batch, permutations - start)
        keys = rng.random((count, len(pooled)))
        chosen = np.argpartition(keys, n_val - 1, axis=1)[:, :n_val]
        means[start : start + count] = pooled[chosen].mean(axis=1)
        if tick is not None:
            tick(count / permutations)
    center = float(means.mean())
    sd = float(means.std(ddof=1)) if permutations > 1 else 0.0
    extreme = np.abs(means - center) >= abs(observed - center)
    return ShuffledSplit(
        val_mean=observed,
        null_mean=center,
        null_sd=sd,
        z=(observed - center) / sd if sd > 0 else 0.0,
        p_value=float((1 + extreme.sum()) / (permutations + 1)),
        permutations=permutations,
    )
