"""Folder formats arrive as one `.zip` or `.tar.gz`: unpack it safely and read the folder.

Only regular files are unpacked, under a fresh temporary directory, with every member's path
checked to stay inside it (no links, no absolute paths). Decompression bombs are refused three
ways: the declared sizes are summed against the limit before anything is written, a member that
claims to expand more than MAX_RATIO times is refused, and every member is copied in chunks
while the bytes actually written are counted, so a member lying about its size is stopped at
the limit with at most one chunk in memory. The folder is then recognized:
TensorBoard event files, an MLflow run (`metrics/`), a W&B run (`wandb-history.jsonl`), or a
single log file; companion files (`hparams.yaml`, `args.yaml`, `config.yaml`, MLflow `params/`)
fill the config.
"""

import io
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import IO

from app.imports.companions import FILES as COMPANIONS
from app.imports.companions import read_companions
from app.imports.formats import mlflow, tensorboard, wandb
from app.imports.parsed import Parsed, ParseError

MAX_RATIO = 200  # logs compress well (10-30x); past this an archive is a bomb, not a run folder
RATIO_FLOOR = 16 << 20  # below 16 MiB unpacked, any ratio is harmless
MAX_MEMBERS = 10_000
CHUNK = 1 << 20


def _safe(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def _unpack(content: bytes, into: Path, max_bytes: int) -> None:
    budget = _Budget(max_bytes, len(content))
    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            budget.plan(len(members), sum(m.file_size for m in members))
            for member in members:
                budget.ratio(member.filename, member.file_size, member.compress_size)
                target = _safe(member.filename)
                if target is not None:
                    with archive.open(member) as source:
                        _copy(source, into / target, budget)
        return
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:*") as tar:
        entries = [m for m in tar.getmembers() if m.isfile()]
        budget.plan(len(entries), sum(m.size for m in entries))
        for entry in entries:
            target = _safe(entry.name)
            extracted = tar.extractfile(entry)
            if target is not None and extracted is not None:
                _copy(extracted, into / target, budget)


class _Budget:
    """What an archive may unpack to: bytes, members, and bytes per compressed byte."""

    def __init__(self, max_bytes: int, packed: int) -> None:
        self.max_bytes, self.packed, self.written = max_bytes, packed, 0

    def _too_large(self) -> ParseError:
        return ParseError(
            f"the archive would unpack to more than {self.max_bytes} bytes "
            "(LOSSGAP_MAX_DATA_UNPACKED_BYTES)"
        )

    def plan(self, members: int, declared: int) -> None:
        if members > MAX_MEMBERS:
            raise ParseError(
                f"the archive holds {members} files, more than {MAX_MEMBERS}; upload the run "
                "folder with its logs only"
            )
        if declared > self.max_bytes:
            raise self._too_large()

    def ratio(self, name: str, size: int, compressed: int) -> None:
        if size > RATIO_FLOOR and size > MAX_RATIO * max(compressed, 1):
            raise ParseError(
                f"{name} would expand {size // max(compressed, 1)} times; more than {MAX_RATIO} "
                "times is refused as a decompression bomb"
            )

    def add(self, count: int) -> None:
        self.written += count
        if self.written > self.max_bytes:
            raise self._too_large()
        if self.written > RATIO_FLOOR and self.written > MAX_RATIO * self.packed:
            raise ParseError(
                f"the archive expands more than {MAX_RATIO} times its size; refused as a "
                "decompression bomb"
            )


def _copy(source: IO[bytes], target: Path, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as sink:
        while chunk := source.read(CHUNK):
            budget.add(len(chunk))
            sink.write(chunk)


def parse(
    content: bytes,
    filename: str,
    overrides: Mapping[str, str] | None,
    max_bytes: int,
    single: Callable[[bytes, str], Parsed],
) -> Parsed:
    with tempfile.TemporaryDirectory(prefix="lossgap-import-") as tmp:
        root = Path(tmp)
        try:
            _unpack(content, root, max_bytes)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
            raise ParseError(f"{filename} is not a readable archive ({exc})") from exc
        except OSError as exc:  # its message names the server's folders: say what, not where
            raise ParseError(
                f"{filename} could not be unpacked ({exc.strerror or type(exc).__name__}): a "
                "file and a folder of the same name, or a member that cannot be written"
            ) from exc
        return parse_folder(root, filename, overrides, single)


def parse_folder(
    root: Path,
    filename: str,
    overrides: Mapping[str, str] | None,
    single: Callable[[bytes, str], Parsed],
) -> Parsed:
    """A run folder: TensorBoard events, an MLflow run, a W&B run, or one log with companions."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    events = [p for p in files if tensorboard.sniff_name(p.name)]
    run = mlflow.find_run(root)
    histories = [p for p in files if p.name == "wandb-history.jsonl"]
    if events:
        parsed = tensorboard.parse_events(events, overrides)
    elif run is not None:
        parsed = mlflow.parse_folder(run, overrides)
    elif histories:
        parsed = wandb.parse(histories[0].read_text(errors="replace"), "", overrides)
    else:
        logs = [p for p in files if not p.name.endswith(COMPANIONS)]
        if len(logs) != 1:
            raise ParseError(
                f"{filename} holds {len(logs)} files and no TensorBoard events, MLflow run "
                "or W&B history; upload one log file, or one run folder"
            )
        parsed = single(logs[0].read_bytes(), logs[0].name)
    config, notes = read_companions(root)
    parsed.config = {**config, **parsed.config}
    parsed.notes.extend(notes)
    parsed.notes.insert(0, f"read {len(files)} files from {filename}")
    return parsed
