"""Analysis speed: one diagnosis of histories from 10^3 to 10^6 points, on one core.

    python bench/analysis_speed.py

Prints seconds and microseconds per point for each size, and each time as a multiple of a
baseline measured in the same process: one vectorized pass over the same data (sort of the step
losses), so the table reads "the whole diagnosis costs N sorts". Target (issue 3): 1,000 epochs +
1,000,000 steps in under 0.5 s, and the cost per point flat from 10^3 to 10^6 points.
"""

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.analysis import History, Series, diagnose  # noqa: E402


def history(epochs: int, steps: int, seed: int = 0) -> History:
    rng = np.random.default_rng(seed)
    e = np.arange(1, epochs + 1, dtype=float)
    train = 2 * np.exp(-e / (epochs / 5)) + 0.1 + rng.normal(0, 0.01, epochs)
    val = 1.8 * np.exp(-e / (epochs / 4)) + 0.2 + rng.normal(0, 0.01, epochs)
    position = np.arange(1, steps + 1) / (steps / epochs)
    step_loss = 2 * np.exp(-position / (epochs / 5)) + 0.1 + rng.normal(0, 0.05, steps)
    return History(
        epoch=e,
        epoch_series={
            "train_loss": Series.full(train),
            "val_loss": Series.full(val),
            "val_accuracy": Series.full(1 - val / 3),
        },
        step=np.arange(steps, dtype=np.int64),
        step_series={"epoch": Series.full(position), "train_loss": Series.full(step_loss)},
        config={"dropout": 0.2, "batch_size": 32},
        task="classification",
    )


def best_of(repeats: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    print(
        f"{'points':>10} {'epochs':>7} {'steps':>9} {'seconds':>9} {'us/point':>9} "
        f"{'x one sort':>11}"
    )
    for steps, epochs in ((1_000, 10), (10_000, 100), (100_000, 1000), (1_000_000, 1000)):
        h = history(epochs, steps)
        diagnose(h)  # warm-up: imports, caches
        seconds = best_of(5, lambda h=h: diagnose(h))
        losses = h.step_series["train_loss"].values
        baseline = best_of(5, lambda losses=losses: np.sort(losses))
        points = epochs + steps
        print(
            f"{points:>10,} {epochs:>7,} {steps:>9,} {seconds:9.3f} "
            f"{seconds / points * 1e6:9.2f} {seconds / baseline:11.1f}"
        )
    print("\ntarget: 1,000 epochs + 1,000,000 steps in < 0.5 s; us/point flat as points grow")


if __name__ == "__main__":
    main()
