"""Check an uploaded file before a job may use it, without executing or unpickling anything.

A model must be a TorchScript archive: a zip holding `code/` and `constants.pkl`, which
`torch.jit.load` reads with TorchScript's own restricted unpickler. A `torch.save` archive or a
bare pickle is refused (loading it would run arbitrary Python). Data is an `.npz` read member by
member with pickle disabled (object arrays refused), sizes declared in the zip checked against
limits before anything is decompressed (a zip bomb never expands), or a safetensors file. Only
array headers are read for the inputs; the label arrays are read to check their range.
"""

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.errors import InvalidArtifact, LimitExceeded, UnsafeArtifact

REQUIRED = ("x_train", "y_train", "x_val", "y_val")
OPTIONAL = ("x_train_raw",)
PICKLE_PROTOCOL = b"\x80"
ZIP_MAGIC = b"PK\x03\x04"
EXPORT_HINT = (
    "Export the model with `torch.jit.save(torch.jit.script(model), 'model.pt')` "
    "(or torch.jit.trace for models scripting cannot handle)."
)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_unpacked_bytes: int
    max_compression_ratio: float


@dataclass(frozen=True)
class ArrayInfo:
    shape: tuple[int, ...]
    dtype: str
    fortran_order: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class DataInfo:
    format: str
    arrays: dict[str, ArrayInfo]
    task: str
    num_classes: int | None
    ignored: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "arrays": {k: v.as_dict() for k, v in self.arrays.items()},
            "task": self.task,
            "num_classes": self.num_classes,
            "ignored": list(self.ignored),
        }


def inspect_model(path: Path, size: int, limits: Limits) -> dict[str, Any]:
    _check_size(size, limits.max_bytes, "model", "LOSSGAP_MAX_MODEL_BYTES")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head[:1] == PICKLE_PROTOCOL:
        raise UnsafeArtifact(
            "The model file is a Python pickle; loading it would run arbitrary code, so it is "
            f"refused. {EXPORT_HINT}"
        )
    if head != ZIP_MAGIC:
        raise InvalidArtifact(f"The model file is not a TorchScript archive. {EXPORT_HINT}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise InvalidArtifact(
            f"The model archive is corrupt ({exc}); upload the file torch.jit.save wrote."
        ) from exc
    _check_unpacked(members, limits, "model")
    names = [m.filename for m in members]
    scripted = any("/code/" in n for n in names) and any(n.endswith("constants.pkl") for n in names)
    if not scripted:
        if any(n.endswith("data.pkl") for n in names):
            raise UnsafeArtifact(
                "The model file is a torch.save() archive (pickled Python objects), not "
                f"TorchScript; loading it would run arbitrary code, so it is refused. {EXPORT_HINT}"
            )
        raise InvalidArtifact(
            f"The model file is a zip but not a TorchScript archive. {EXPORT_HINT}"
        )
    return {"format": "torchscript", "members": len(names)}


def inspect_data(
    path: Path, size: int, limits: Limits, task: str, num_classes: int | None
) -> DataInfo:
    """Shapes, dtypes and label range of a data upload; raises with what to fix."""
    _check_size(size, limits.max_bytes, "data", "LOSSGAP_MAX_DATA_BYTES")
    with path.open("rb") as fh:
        head = fh.read(16)
    if head[:1] == PICKLE_PROTOCOL:
        raise UnsafeArtifact(
            "The data file is a Python pickle and is refused; save the arrays with "
            "numpy.savez / savez_compressed or safetensors."
        )
    if head[:4] == ZIP_MAGIC:
        fmt, arrays, labels = "npz", *_read_npz(path, limits)
    elif _looks_like_safetensors(head, size):
        fmt, arrays, labels = "safetensors", *_read_safetensors(path)
    else:
        raise InvalidArtifact(
            "The data file is neither an .npz (numpy.savez) nor a safetensors file; save "
            f"{', '.join(REQUIRED)} (and optionally x_train_raw) in one of those."
        )
    return _check_arrays(fmt, arrays, labels, task, num_classes)


def _check_size(size: int, limit: int, what: str, setting: str) -> None:
    if size > limit:
        raise LimitExceeded(
            f"The {what} file is {size} bytes, over this server's limit of {limit} ({setting})."
        )
    if size == 0:
        raise InvalidArtifact(f"The {what} file is empty.")


def _check_unpacked(members: list[zipfile.ZipInfo], limits: Limits, what: str) -> None:
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_bytes:
        raise LimitExceeded(
            f"The {what} archive would unpack to {total} bytes, over this server's limit of "
            f"{limits.max_unpacked_bytes} (LOSSGAP_MAX_DATA_UNPACKED_BYTES)."
        )
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
            raise LimitExceeded(
                f"The {what} archive member {m.filename!r} would expand {ratio:.0f}-fold "
                f"({m.compress_size} → {m.file_size} bytes), more than the "
                f"{limits.max_compression_ratio:g}-fold this server accepts "
                "(LOSSGAP_MAX_COMPRESSION_RATIO): it looks like a decompression bomb."
            )


def _read_header(fh: IO[bytes], name: str) -> ArrayInfo:
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    except ValueError as exc:
        raise InvalidArtifact(f"Array {name!r} has an unreadable .npy header ({exc}).") from exc
    if dtype.hasobject:
        raise UnsafeArtifact(
            f"Array {name!r} holds Python objects, which can only be read by unpickling; "
            "store numeric arrays only."
        )
    return ArrayInfo(tuple(int(d) for d in shape), dtype.str, bool(fortran))


def _read_npz(path: Path, limits: Limits) -> tuple[dict[str, ArrayInfo], dict[str, np.ndarray]]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InvalidArtifact(f"The .npz file is corrupt ({exc}).") from exc
    with archive:
        members = archive.infolist()
        _check_unpacked(members, limits, "data")
        arrays: dict[str, ArrayInfo] = {}
        labels: dict[str, np.ndarray] = {}
        for member in members:
            name = member.filename.removesuffix(".npy")
            try:
                with archive.open(member) as fh:
                    info = _read_header(fh, name)
                    arrays[name] = info
                    if name in ("y_train", "y_val"):
                        labels[name] = _read_labels(fh, name, info)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InvalidArtifact(f"Array {name!r} of the .npz is corrupt ({exc}).") from exc
    return arrays, labels


def _read_labels(fh: IO[bytes], name: str, info: ArrayInfo) -> np.ndarray:
    count = int(np.prod(info.shape)) if info.shape else 1
    dtype = np.dtype(info.dtype)
    raw = fh.read(count * dtype.itemsize)
    if len(raw) != count * dtype.itemsize:
        raise InvalidArtifact(f"Array {name!r} is truncated: its header promises {count} values.")
    return np.frombuffer(raw, dtype=dtype).reshape(
        info.shape, order="F" if info.fortran_order else "C"
    )


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (header_len,) = struct.unpack("<Q", head[:8])
    return 0 < header_len <= size - 8 and head[8:9] == b"{"


SAFETENSORS_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "|i1",
    "U8": "|u1",
    "BOOL": "|b1",
}


def _read_safetensors(path: Path) -> tuple[dict[str, ArrayInfo], dict[str, np.ndarray]]:
    from safetensors import safe_open

    try:
        with path.open("rb") as fh:
            (header_len,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(header_len))
        arrays: dict[str, ArrayInfo] = {}
        for name, spec in header.items():
            if name == "__metadata__":
                continue
            dtype = SAFETENSORS_DTYPES.get(spec["dtype"])
            if dtype is None:
                raise InvalidArtifact(
                    f"Array {name!r} has dtype {spec['dtype']}, which re-evaluation cannot read; "
                    "store float32/float64 inputs and integer labels."
                )
            arrays[name] = ArrayInfo(tuple(int(d) for d in spec["shape"]), dtype)
        labels: dict[str, np.ndarray] = {}
        with safe_open(str(path), framework="numpy") as reader:
            for name in ("y_train", "y_val"):
                if name in arrays:
                    labels[name] = reader.get_tensor(name)
    except InvalidArtifact:
        raise
    except Exception as exc:  # the format library's own errors are not a stable hierarchy
        raise InvalidArtifact(f"The safetensors file is corrupt ({exc}).") from exc
    return arrays, labels


def _check_arrays(
    fmt: str,
    arrays: dict[str, ArrayInfo],
    labels: dict[str, np.ndarray],
    task: str,
    num_classes: int | None,
) -> DataInfo:
    missing = [name for name in REQUIRED if name not in arrays]
    if missing:
        raise InvalidArtifact(
            f"The data file lacks {', '.join(missing)}; it must hold {', '.join(REQUIRED)} "
            f"(found: {', '.join(sorted(arrays)) or 'nothing'})."
        )
    for name in (*REQUIRED, *OPTIONAL):
        if name in arrays and np.dtype(arrays[name].dtype).kind not in "biuf":
            raise InvalidArtifact(
                f"Array {name!r} has dtype {arrays[name].dtype}; inputs and labels must be numeric."
            )
    shape = {name: arrays[name].shape for name in arrays}
    for x, y in (("x_train", "y_train"), ("x_val", "y_val")):
        if not shape[x] or not shape[y] or shape[x][0] != shape[y][0]:
            raise InvalidArtifact(
                f"{x} has shape {shape[x]} but {y} has shape {shape[y]}: they need the same "
                "number of samples along the first axis."
            )
        if shape[x][0] < 2:
            raise InvalidArtifact(f"{x} holds {shape[x][0]} samples; at least 2 are needed.")
    if shape["x_train"][1:] != shape["x_val"][1:]:
        raise InvalidArtifact(
            f"x_train samples have shape {shape['x_train'][1:]} but x_val samples "
            f"{shape['x_val'][1:]}: both splits must feed the model the same input shape."
        )
    if "x_train_raw" in shape and shape["x_train_raw"] != shape["x_train"]:
        raise InvalidArtifact(
            f"x_train_raw has shape {shape['x_train_raw']}, x_train {shape['x_train']}: the raw "
            "inputs must be the same samples, before augmentation."
        )
    y_train, y_val = labels["y_train"], labels["y_val"]
    integer = y_train.dtype.kind in "biu" and y_val.dtype.kind in "biu"
    resolved = (
        task
        if task in ("classification", "regression")
        else ("classification" if integer else "regression")
    )
    classes: int | None = None
    if resolved == "classification":
        classes = _check_class_ids(y_train, y_val, integer, num_classes)
    elif not (np.isfinite(y_train).all() and np.isfinite(y_val).all()):
        raise InvalidArtifact("Regression targets must be finite; y_train or y_val holds NaN/inf.")
    ignored = tuple(sorted(set(arrays) - set(REQUIRED) - set(OPTIONAL)))
    return DataInfo(fmt, arrays, resolved, classes, ignored)


def _check_class_ids(
    y_train: np.ndarray, y_val: np.ndarray, integer: bool, num_classes: int | None
) -> int:
    for name, y in (("y_train", y_train), ("y_val", y_val)):
        if not integer:
            raise InvalidArtifact(
                f"{name} has dtype {y.dtype}, but classification labels must be integer class ids "
                "(e.g. y.astype('int64')); for regression set the run's task to `regression`."
            )
        if y.ndim != 1:
            raise InvalidArtifact(
                f"{name} has shape {y.shape}; classification labels must be one class id per "
                "sample (1-D), not one-hot rows."
            )
        if y.size and int(y.min()) < 0:
            raise InvalidArtifact(f"{name} holds class id {int(y.min())}; ids start at 0.")
    top = max(int(y_train.max()), int(y_val.max()))
    if num_classes is not None and top >= num_classes:
        raise InvalidArtifact(
            f"Labels out of range: the labels hold class id {top}, but the run's config says "
            f"num_classes={num_classes} (ids must be 0..{num_classes - 1})."
        )
    return num_classes if num_classes is not None else top + 1
