"""The arrays a probe scores: training and validation inputs and labels, held in memory."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_train_raw: np.ndarray | None  # training inputs before augmentation, when given
    subsampled: bool  # fewer samples than the data holds (limits)
