"""Import a file: detect and parse it (pure), then store it as a run like `POST /v1/runs` does."""

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import InvalidInput
from app.imports import detect
from app.imports.mapping import MappingError
from app.imports.parsed import Parsed
from app.runs import service as runs
from app.runs.schemas import RunCreate
from app.runs.service import RunCounts


@dataclass(frozen=True)
class Imported:
    counts: RunCounts
    parsed: Parsed


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
    *,
    filename: str,
    content: bytes,
    fmt: str | None,
    name: str | None,
    config: str | None,
    mapping: str | None,
) -> Imported:
    overrides = {str(k): str(v) for k, v in _json_object(mapping, "mapping").items()}
    try:
        parsed = detect.parse(content, filename, fmt, overrides, settings.max_data_unpacked_bytes)
    except (detect.UnknownFormat, MappingError) as exc:
        raise InvalidInput(str(exc)) from exc
    try:
        body = RunCreate.model_validate(
            {
                "name": (name or filename or "import")[:200],
                "task": parsed.task,
                "config": {**parsed.config, **_json_object(config, "config")},
                "epochs": parsed.epochs,
                "steps": parsed.steps,
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(
            f"{filename} was read as {parsed.format} but gives no usable history: "
            f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        ) from exc
    return Imported(runs.create_run(session, settings, body), parsed)
