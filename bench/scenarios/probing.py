"""The workers' probe report on a scenario run's final model, as a re-evaluation would see it.

Both generators call this after training: the model goes through a TorchScript round trip and
the workers' own report code, so the suite's re-evaluated view is what a user's would be. (The
generators share nothing else: their data, models and labels stay independent.)
"""

import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workers.reevaluate import report
from workers.reevaluate.errors import ReevaluationError
from workers.reevaluate.load import Data, load_model

EVAL_BATCH = 512
PERMUTATIONS = 500
NEAR_DUPLICATE = 0.995


def worker_report(
    model: torch.nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    x_train_raw: np.ndarray | None,
    task: str,
    batch_size: int,
    label_smoothing: float,
    reported: tuple[float | None, float | None],
) -> dict[str, Any] | None:
    """The report (as the JSON a worker stores), or None when the workers would fail the job.
    `x_train` is what training saw (one augmented draw when it augments), `x_train_raw` the
    inputs before augmentation."""
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(model), buffer)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pt"
        path.write_bytes(buffer.getvalue())
        loaded = load_model(path, torch.device("cpu"))
    labels = np.int64 if task == "classification" else np.float32
    data = Data(
        x_train.astype(np.float32),
        y_train.astype(labels),
        x_val.astype(np.float32),
        y_val.astype(labels),
        x_train_raw.astype(np.float32) if x_train_raw is not None else None,
        False,
    )
    settings = report.Settings(
        loss="cross_entropy" if task == "classification" else "mse",
        label_smoothing=label_smoothing,
        batch_size=batch_size,
        eval_batch_size=EVAL_BATCH,
        permutations=PERMUTATIONS,
        near_threshold=NEAR_DUPLICATE,
        task=task,
        reported_train=reported[0],
        reported_val=reported[1],
    )
    try:
        built = report.build(loaded, data, settings, torch.device("cpu"), _ignore, _continue)
    except ReevaluationError:
        return None
    return built.model_dump(mode="json", exclude={"seconds"})


def _ignore(_share: float, _stage: str) -> None:
    return None


def _continue() -> None:
    return None
