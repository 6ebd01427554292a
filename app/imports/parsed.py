"""What every format parser returns: epoch rows and step rows in the API's shape, plus notes.

Parsers never raise on a quirk they can handle (a repeated header, a resumed run, `nan`
strings); they handle it and say so in `notes`, which the import response returns.
"""

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.runs.schemas import RunCreate

Row = dict[str, float | None]


class ParseError(ValueError):
    """The file is not in this format, or too damaged to read; the message says why."""


@dataclass
class Parsed:
    format: str
    epochs: list[Row]
    steps: list[Row] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)  # role -> source column
    notes: list[str] = field(default_factory=list)
    task: str = "other"

    def document(self, name: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run as the body of `POST /v1/runs`; `config` is merged over what the file said."""
        return {
            "name": name[:200],
            "task": self.task,
            "config": {**self.config, **(config or {})},
            "epochs": self.epochs,
            "steps": self.steps,
        }

    def run(
        self,
        name: str,
        config: dict[str, Any] | None,
        source: str,
        project: str | None = None,
    ) -> RunCreate:
        """The run the API would store, or a ParseError saying why the history is unusable (the
        same message from the API and the command line)."""
        try:
            return RunCreate.model_validate({**self.document(name, config), "project": project})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"]))
            raise ParseError(
                f"{source} was read as {self.format} but gives no usable history: {where}: "
                f"{first['msg']}{_hint(where, self)}"
            ) from exc


def _hint(where: str, parsed: "Parsed") -> str:
    if where != "epochs" or parsed.epochs:
        return ""
    return (
        " (no row has a loss the import recognized; name the columns with `mapping`, e.g. "
        '{"train_loss": "<column>", "val_loss": "<column>"})'
    )
