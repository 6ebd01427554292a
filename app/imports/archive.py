"""Folder formats arrive as one `.zip` or `.tar.gz`: unpack it safely and read the folder.

Only regular files are unpacked, under a fresh temporary directory, with every member's path
checked to stay inside it and the declared sizes summed against a limit before anything is
written (no links, no absolute paths, no decompression bombs). The folder is then recognized:
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

from app.imports.companions import FILES as COMPANIONS
from app.imports.companions import read_companions
from app.imports.formats import mlflow, tensorboard, wandb
from app.imports.parsed import Parsed, ParseError


def _safe(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def _unpack(content: bytes, into: Path, max_bytes: int) -> None:
    def check(total: int) -> None:
        if total > max_bytes:
            raise ParseError(
                f"the archive would unpack to more than {max_bytes} bytes "
                "(LOSSGAP_MAX_DATA_UNPACKED_BYTES)"
            )

    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            check(sum(m.file_size for m in members))
            for member in members:
                target = _safe(member.filename)
                if target is not None:
                    (into / target).parent.mkdir(parents=True, exist_ok=True)
                    (into / target).write_bytes(archive.read(member))
        return
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:*") as tar:
        entries = [m for m in tar.getmembers() if m.isfile()]
        check(sum(m.size for m in entries))
        for entry in entries:
            target = _safe(entry.name)
            extracted = tar.extractfile(entry)
            if target is not None and extracted is not None:
                (into / target).parent.mkdir(parents=True, exist_ok=True)
                (into / target).write_bytes(extracted.read())


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
