"""Load the uploaded model and data safely, on the device the job asked for.

The model goes through `torch.jit.load` only (TorchScript's restricted unpickler, never Python's);
the data through `numpy.load(allow_pickle=False)` or safetensors. Inputs keep their kind: floating
arrays become float32 (the model's usual input), integer arrays (token ids) stay int64.
"""

from pathlib import Path

import numpy as np
import torch
from lossgap_client.probe.data import Data

from workers.reevaluate.errors import ReevaluationError

__all__ = ["Data", "load_data", "load_model", "pick_device"]


def pick_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ReevaluationError(
            f"The job asked for device {requested!r} but this worker has no CUDA device; "
            "ask for device `auto` or `cpu`, or run a GPU worker (`lossgap worker --queue gpu`)."
        )
    return torch.device(requested)


def load_model(path: Path, device: torch.device) -> torch.jit.ScriptModule:
    try:
        model: torch.jit.ScriptModule = torch.jit.load(  # type: ignore[no-untyped-call]
            str(path), map_location=device
        )
    except Exception as exc:  # torch raises RuntimeError or its own C++ error types
        raise ReevaluationError(
            f"The model could not be loaded as TorchScript ({_first_line(exc)}). Upload the "
            "file written by torch.jit.save(torch.jit.script(model), path)."
        ) from exc
    return model


def load_data(path: Path, max_samples: int, seed: int = 0) -> Data:
    try:
        arrays = _read(path)
    except ReevaluationError:
        raise
    except Exception as exc:
        raise ReevaluationError(f"The data file could not be read ({_first_line(exc)}).") from exc
    rng = np.random.default_rng(seed)
    subsampled = False
    train = np.arange(len(arrays["x_train"]))
    val = np.arange(len(arrays["x_val"]))
    if len(train) > max_samples:
        train, subsampled = np.sort(rng.choice(len(train), max_samples, replace=False)), True
    if len(val) > max_samples:
        val, subsampled = np.sort(rng.choice(len(val), max_samples, replace=False)), True
    raw = arrays.get("x_train_raw")
    return Data(
        _inputs(arrays["x_train"][train]),
        arrays["y_train"][train],
        _inputs(arrays["x_val"][val]),
        arrays["y_val"][val],
        _inputs(raw[train]) if raw is not None else None,
        subsampled,
    )


def _read(path: Path) -> dict[str, np.ndarray]:
    names = ("x_train", "y_train", "x_val", "y_val", "x_train_raw")
    with path.open("rb") as fh:
        zipped = fh.read(4) == b"PK\x03\x04"
    if zipped:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in names if k in npz.files}
    from safetensors.numpy import load_file

    loaded = load_file(str(path))
    return {k: loaded[k] for k in names if k in loaded}


def _inputs(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return np.ascontiguousarray(x, dtype=np.float32)
    return np.ascontiguousarray(x, dtype=np.int64)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else exc.__class__.__name__
