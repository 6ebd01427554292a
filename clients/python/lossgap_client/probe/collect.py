"""Turn a user's data loaders into the in-memory arrays a probe scores.

Batches may be `(inputs, labels, ...)` tuples or dicts (`input_ids`/`pixel_values`/`x`/…
with `labels`/`label`/`y`/…). Reading stops at `limit` samples; a shuffled loader then gives a
random subset, an ordered one the first samples (either way the report says it was subsampled).
"""

from typing import Any

import numpy as np
import torch

from lossgap_client.probe.errors import ProbeError

INPUT_KEYS = ("x", "input", "inputs", "features", "pixel_values", "input_ids", "image", "images")
LABEL_KEYS = ("y", "label", "labels", "target", "targets")


def _pair(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, tuple | list) and len(batch) >= 2:
        return batch[0], batch[1]
    if isinstance(batch, dict):
        x = next((batch[k] for k in INPUT_KEYS if k in batch), None)
        y = next((batch[k] for k in LABEL_KEYS if k in batch), None)
        if x is not None and y is not None:
            return x, y
        raise ProbeError(
            f"A batch is a dict with keys {sorted(batch)}: the probe looks for inputs under "
            f"one of {INPUT_KEYS} and labels under one of {LABEL_KEYS}."
        )
    raise ProbeError(
        f"A batch is a {type(batch).__name__}: the probe needs (inputs, labels) tuples or dicts."
    )


def _array(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.is_floating_point():
            value = value.float()
        return np.asarray(value.numpy())
    array = np.asarray(value)
    return array.astype(np.float32) if np.issubdtype(array.dtype, np.floating) else array


def collect(loader: Any, limit: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Inputs and labels of up to `limit` samples, and whether the loader held more."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    count = 0
    more = False
    for batch in loader:
        if count >= limit:
            more = True
            break
        x, y = (_array(v) for v in _pair(batch))
        xs.append(x)
        ys.append(y)
        count += len(x)
    if not xs:
        raise ProbeError("A data loader yielded no batches.")
    try:
        x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    except ValueError as exc:
        raise ProbeError(
            f"Batches differ in shape ({exc}); pad inputs to one shape to probe them."
        ) from exc
    return x_all[:limit], y_all[:limit], more or count > limit
