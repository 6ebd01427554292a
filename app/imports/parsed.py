"""What every format parser returns: epoch rows and step rows in the API's shape, plus notes.

Parsers never raise on a quirk they can handle (a repeated header, a resumed run, `nan`
strings); they handle it and say so in `notes`, which the import response returns.
"""

from dataclasses import dataclass, field
from typing import Any

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
