"""Pick the parser for a file: the one asked for, or the first whose sniffer recognizes the file
and whose parser reads it. When none does, the error lists every format tried and why.

Whatever the format, a resumed run (an epoch or step logged again) keeps the later values and
non-finite losses are kept as evidence; both are said in the notes."""

import json
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from app.imports import archive
from app.imports.formats import (
    fastai,
    hf_trainer,
    keras_csv,
    keras_json,
    lightning,
    plain_csv,
    plain_log,
    tensorboard,
    ultralytics,
    wandb,
)
from app.imports.mapping import MAPPING_ROLES, suggestion
from app.imports.parsed import Parsed, ParseError
from app.imports.table import header_of, last_of_each, looks_tabular

# Most specific first: a Lightning metrics.csv would also pass for a plain CSV.
FORMATS: tuple[ModuleType, ...] = (
    hf_trainer,
    keras_json,
    wandb,
    ultralytics,
    lightning,
    fastai,
    keras_csv,
    plain_csv,
    plain_log,
)
BY_NAME = {module.NAME: module for module in FORMATS}
LOSSES = ("train_loss", "val_loss")
ARCHIVES = (b"PK\x03\x04", b"\x1f\x8b")
MAX_ARCHIVE_DEPTH = 2  # a zipped folder holding one zipped log is as deep as uploads go


class UnknownFormat(ValueError):
    """No format reads the file; for a table, its columns and a mapping to send back."""

    def __init__(
        self, message: str, columns: list[str] | None = None, mapping: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.columns = columns or []
        self.mapping = mapping or {}


def parse(
    content: bytes,
    filename: str,
    fmt: str | None,
    overrides: Mapping[str, str] | None,
    max_unpacked_bytes: int = 1 << 30,
) -> Parsed:
    return _reported(_parse(content, filename, fmt, overrides, max_unpacked_bytes))


def parse_directory(
    root: Path, overrides: Mapping[str, str] | None, max_unpacked_bytes: int = 1 << 30
) -> Parsed:
    """A run folder on disk, read as its archive would be (`lossgap diagnose DIR`)."""
    try:
        return _reported(
            archive.parse_folder(
                root,
                root.name,
                overrides,
                lambda data, name: _parse(data, name, None, overrides, max_unpacked_bytes),
            )
        )
    except ParseError as exc:
        raise UnknownFormat(str(exc)) from exc


def _reported(parsed: Parsed) -> Parsed:
    parsed.epochs, epochs_again = last_of_each(parsed.epochs, "epoch")
    parsed.steps, steps_again = last_of_each(parsed.steps, "step")
    for count, what in ((epochs_again, "epoch"), (steps_again, "step")):
        if count:
            parsed.notes.append(
                f"{count} {what} rows repeat an earlier {what} (a resumed run?): the later "
                "values are kept"
            )
    nonfinite = sum(
        any(isinstance(v, float) and not math.isfinite(v) for v in map(row.get, LOSSES))
        for row in parsed.epochs
    )
    if nonfinite:
        parsed.notes.append(
            f"a NaN or infinite loss in {nonfinite} of {len(parsed.epochs)} epochs: kept, as "
            "evidence of numerical instability"
        )
    return parsed


def _parse(
    content: bytes,
    filename: str,
    fmt: str | None,
    overrides: Mapping[str, str] | None,
    max_unpacked_bytes: int,
    depth: int = 0,
) -> Parsed:
    try:
        if content.startswith(ARCHIVES):
            if depth >= MAX_ARCHIVE_DEPTH:
                raise ParseError(
                    f"{filename} is an archive inside {depth} archives; upload the run folder "
                    "zipped once"
                )
            return archive.parse(
                content,
                filename,
                overrides,
                max_unpacked_bytes,
                lambda data, name: _parse(
                    data, name, fmt, overrides, max_unpacked_bytes, depth + 1
                ),
            )
        if tensorboard.sniff_name(filename):
            return _events(content, filename, overrides)
    except ParseError as exc:
        raise UnknownFormat(str(exc)) from exc
    text = content.decode("utf-8", errors="replace").lstrip("\ufeff")
    if "\x00" in text[:4096]:
        raise UnknownFormat(
            f"{filename} is a binary file; a TensorBoard event file keeps its name "
            "(events.out.tfevents.…), and folders are uploaded as .zip or .tar.gz. Text logs: "
            f"{', '.join(BY_NAME)}."
        )
    if fmt is not None:
        module = BY_NAME.get(fmt)
        if module is None:
            raise UnknownFormat(f"unknown format {fmt!r}; known: {', '.join(BY_NAME)}")
        try:
            parsed: Parsed = module.parse(text, filename, overrides)
        except ParseError as exc:
            raise UnknownFormat(f"{filename} is not a readable {fmt} file: {exc}") from exc
        return parsed
    tried = []
    for module in FORMATS:
        if not module.sniff(text, filename):
            tried.append(f"{module.NAME} (not recognized)")
            continue
        try:
            found: Parsed = module.parse(text, filename, overrides)
        except ParseError as exc:
            tried.append(f"{module.NAME} ({exc})")
            continue
        if found.epochs:
            return found
        tried.append(f"{module.NAME} (no epoch with a loss)")
    if overrides and looks_tabular(text):
        try:
            return plain_csv.parse(text, filename, overrides)
        except ParseError as exc:
            tried.append(f"{plain_csv.NAME} with the mapping ({exc})")
    raise _unknown(text, filename, tried)


def _unknown(text: str, filename: str, tried: list[str]) -> UnknownFormat:
    """Why no format fits and, for a table, its columns and a mapping to send back."""
    message = f"could not tell the format of {filename}; tried: {'; '.join(tried)}."
    if not looks_tabular(text):
        return UnknownFormat(
            f"{message} Pass `format`, or send a CSV with `epoch,train_loss,val_loss`."
        )
    columns = header_of(text)
    mapping = suggestion(columns)
    return UnknownFormat(
        f"{message} Its columns are: {', '.join(columns)}. Name the loss columns with "
        f"`mapping`, e.g. mapping={json.dumps(mapping)} (roles: {', '.join(MAPPING_ROLES)}).",
        columns,
        mapping,
    )


def _events(content: bytes, filename: str, overrides: Mapping[str, str] | None) -> Parsed:
    with tempfile.TemporaryDirectory(prefix="lossgap-events-") as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_bytes(content)
        return tensorboard.parse_events([path], overrides)
