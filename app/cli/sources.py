"""Where a run to diagnose comes from: a file, a run on an MLflow server or a run on a lossgap
server; and the `--mapping` / `--config` options every command reads the same way."""

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from app.imports.parsed import Parsed

RUN_ADDRESS = re.compile(r"^(?P<base>https?://[^#]+?)(?:/v1)?/runs/(?P<id>[^/?#]+)")
LOSSGAP_RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


MappingOption = Annotated[
    str | None,
    typer.Option(
        "--mapping",
        help='Name the series, as JSON or a .json file: \'{"train_loss": "trn", "val_loss": '
        '"vl"}\' (roles: epoch, train_loss, val_loss, train_accuracy, val_accuracy).',
    ),
]
ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        help='The run\'s config, as JSON or a .json file: \'{"dropout": 0.3, "optimizer": '
        '"adam"}\'; merged over what the log says.',
    ),
]


def json_object(value: str | None, option: str) -> dict[str, Any]:
    """`--mapping`/`--config`: a JSON object, inline or in a .json file."""
    if not value:
        return {}
    text = value
    if not value.lstrip().startswith("{"):
        try:
            text = Path(value).read_text()
        except OSError as exc:
            raise typer.BadParameter(
                f'{option} takes a JSON object, e.g. \'{{"val_loss": "valid_loss"}}\', or a '
                f".json file; {value!r} is neither ({exc.strerror})"
            ) from exc
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{option} is not valid JSON: {exc}") from exc
    if not isinstance(found, dict):
        raise typer.BadParameter(f"{option} must be a JSON object, got {type(found).__name__}")
    return found


def lossgap_run(source: str, url: str) -> tuple[str, str] | None:
    """(server, run id) when SOURCE names a run stored by lossgap: its report page or API
    address (http://host/runs/<id>, …/v1/runs/<id>) or, when no such file exists, its id (on
    LOSSGAP_URL). An MLflow UI address (…/#/experiments/…/runs/<id>) is not one."""
    address = RUN_ADDRESS.match(source)
    if address:
        return address["base"], address["id"]
    if LOSSGAP_RUN_ID.fullmatch(source) and not Path(source).exists():
        return url, source
    return None


def mlflow_ref(source: str) -> Any:
    """The MLflow run SOURCE names (UI address, runs:/<id>, an id), or None for a file path."""
    if Path(source).exists():
        return None
    from app.imports import mlflow_server  # httpx: only when SOURCE is no file

    try:
        return mlflow_server.reference(source, os.environ.get("MLFLOW_TRACKING_URI"))
    except mlflow_server.NotARun as exc:
        if source.startswith(("http://", "https://", "runs:/")) or mlflow_server.RUN_ID.fullmatch(
            source
        ):
            raise typer.BadParameter(str(exc)) from exc
        return None


def read_run(
    source: str,
    fmt: str | None,
    mapping: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A run document from SOURCE: the JSON of POST /v1/runs, any importable log, or a run on
    an MLflow tracking server; checked as `POST /v1/runs` checks it, with the same messages."""
    from app.imports.parsed import ParseError
    from app.runs.schemas import RunCreate

    overrides = {str(k): str(v) for k, v in (mapping or {}).items()}
    ref = mlflow_ref(source)
    if ref is not None:
        parsed, name = _fetch_mlflow(ref, overrides)
    else:
        document = _run_json(Path(source)) if fmt is None and not overrides else None
        if document is not None:
            document["config"] = {**document.get("config", {}), **(config or {})}
            try:
                RunCreate.model_validate(document)
            except ValueError as exc:
                raise typer.BadParameter(f"{source} is not a usable run: {exc}") from exc
            return document
        parsed, name = _parse_file(Path(source), fmt, overrides), Path(source).name
    try:
        parsed.run(name, config, source)
    except ParseError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return parsed.document(name, config)


def _run_json(file: Path) -> dict[str, Any] | None:
    """The body of POST /v1/runs, when FILE is one."""
    if file.suffix != ".json":
        return None
    try:
        document = json.loads(file.read_bytes())
    except (OSError, ValueError):
        return None
    if isinstance(document, dict) and isinstance(document.get("epochs"), list):
        return document
    return None


def _parse_file(file: Path, fmt: str | None, overrides: dict[str, str]) -> "Parsed":
    from app.imports import detect

    if file.is_dir():
        try:
            return detect.parse_directory(file, overrides)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}") from exc
    try:
        return detect.parse(content, file.name, fmt, overrides)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def mlflow_auth() -> dict[str, str]:
    """The tracking server's credentials, from the variables MLflow's own client reads."""
    return {
        "token": os.environ.get("MLFLOW_TRACKING_TOKEN", ""),
        "username": os.environ.get("MLFLOW_TRACKING_USERNAME", ""),
        "password": os.environ.get("MLFLOW_TRACKING_PASSWORD", ""),
    }


def _fetch_mlflow(ref: Any, overrides: dict[str, str]) -> tuple["Parsed", str]:
    from app.imports import mlflow_server

    try:
        return mlflow_server.fetch(ref, overrides, auth=mlflow_auth())
    except (mlflow_server.UpstreamError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
