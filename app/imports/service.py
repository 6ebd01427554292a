"""Import a file: detect and parse it (pure), then store it as a run like `POST /v1/runs` does."""

import json
from dataclasses import dataclass, replace
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import InvalidInput, LimitExceeded, UpstreamFailed
from app.imports import detect, mlflow_server, outbound
from app.imports.mapping import MappingError
from app.imports.mlflow_server import RunRef
from app.imports.parsed import Parsed, ParseError
from app.keys.access import Access
from app.runs import service as runs
from app.runs.schemas import ProjectName
from app.runs.service import RunCounts

PROJECT: TypeAdapter[str] = TypeAdapter(ProjectName)


@dataclass(frozen=True)
class Imported:
    counts: RunCounts
    parsed: Parsed


def _project(access: Access, project: str | None) -> str | None:
    """The project the import is stored under: a valid name this key may write to."""
    if project is not None:
        try:
            project = PROJECT.validate_python(project)
        except ValidationError as exc:
            raise InvalidInput(f"`project`: {exc.errors()[0]['msg']}.") from exc
    return access.project_for(project)


def _json_object(raw: str | None, field: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"`{field}` is not valid JSON ({exc.msg}); send a JSON object.") from exc
    if not isinstance(value, dict):
        raise InvalidInput(f"`{field}` must be a JSON object, got {type(value).__name__}.")
    return value


def import_file(
    session: Session,
    settings: Settings,
    access: Access,
    *,
    filename: str,
    content: bytes,
    fmt: str | None,
    name: str | None,
    project: str | None,
    config: str | None,
    mapping: str | None,
) -> Imported:
    project = _project(access, project)  # refused before any parsing
    if len(content) > settings.max_import_bytes:
        raise LimitExceeded(
            f"{filename} is larger than LOSSGAP_MAX_IMPORT_BYTES={settings.max_import_bytes} "
            "bytes; a training log is far smaller: send the log itself, or zip the run folder."
        )
    overrides = {str(k): str(v) for k, v in _json_object(mapping, "mapping").items()}
    try:
        parsed = detect.parse(content, filename, fmt, overrides, settings.max_data_unpacked_bytes)
    except detect.UnknownFormat as exc:
        details = {"columns": exc.columns, "mapping": exc.mapping} if exc.columns else None
        raise InvalidInput(str(exc), details=details) from exc
    except MappingError as exc:
        raise InvalidInput(str(exc)) from exc
    extra = _json_object(config, "config")
    stored_as = Stored(name or filename or "import", project, extra, filename)
    return _store(session, settings, access, parsed, stored_as)


def mlflow_reference(settings: Settings, run: str, tracking_uri: str | None) -> RunRef:
    """The MLflow run named, on a tracking server this service may call."""
    try:
        ref = mlflow_server.reference(run, tracking_uri)
    except mlflow_server.NotARun as exc:
        raise InvalidInput(str(exc)) from exc
    allowed = settings.mlflow_allowed_hosts
    if allowed and not outbound.allowed_by_list(ref.tracking_uri, allowed):
        raise InvalidInput(
            f"{ref.tracking_uri} is not an MLflow server this service may call; allowed: "
            f"{', '.join(allowed)} (LOSSGAP_MLFLOW_ALLOWED_HOSTS)."
        )
    try:
        address = outbound.pinned_address(ref.tracking_uri, allowed)
    except outbound.Refused as exc:
        raise InvalidInput(str(exc)) from exc
    return replace(ref, address=address)


def import_mlflow(
    session: Session,
    settings: Settings,
    access: Access,
    *,
    run: str,
    tracking_uri: str | None,
    name: str | None,
    project: str | None,
    config: dict[str, Any],
    mapping: dict[str, str],
    token: str | None,
) -> Imported:
    project = _project(access, project)  # refused before the tracking server is called
    ref = mlflow_reference(settings, run, tracking_uri)
    try:
        parsed, mlflow_name = mlflow_server.fetch(
            ref,
            mapping,
            timeout=settings.mlflow_timeout_seconds,
            max_metrics=settings.mlflow_max_metrics,
            max_points=settings.max_epochs_per_run,
            auth={"token": token} if token else None,
        )
    except mlflow_server.UpstreamError as exc:
        raise (InvalidInput if exc.user_error else UpstreamFailed)(str(exc)) from exc
    except (ParseError, MappingError) as exc:
        raise InvalidInput(f"MLflow run {ref.run_id}: {exc}") from exc
    stored_as = Stored(name or mlflow_name, project, config, f"run {ref.run_id}")
    return _store(session, settings, access, parsed, stored_as)


@dataclass(frozen=True)
class Stored:
    """How an import is stored: the run's name, project and config, and the source's name."""

    name: str
    project: str | None
    config: dict[str, Any]
    source: str


def _store(
    session: Session, settings: Settings, access: Access, parsed: Parsed, stored: Stored
) -> Imported:
    try:
        body = parsed.run(stored.name, stored.config, stored.source, stored.project)
    except ParseError as exc:
        raise InvalidInput(str(exc)) from exc
    return Imported(runs.create_run(session, settings, body, access), parsed)
