"""Keras History JSON: `json.dump(history.history)`, a dict of equal-length lists, no epoch key
(epoch i is list position i, stored from 1)."""

import json
from collections.abc import Mapping

from app.imports.parsed import Parsed, ParseError
from app.imports.table import epoch_rows

NAME = "keras_history_json"


def sniff(text: str, filename: str) -> bool:
    head = text.lstrip()[:2000]
    return head.startswith("{") and '"loss"' in head and "log_history" not in head


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or not all(isinstance(v, list) for v in document.values()):
        raise ParseError("expected an object of lists (history.history)")
    lengths = {len(v) for v in document.values()}
    if len(lengths) != 1:
        raise ParseError(f"the lists have different lengths: {sorted(lengths)}")
    (n,) = lengths
    records = [{key: values[i] for key, values in document.items()} for i in range(n)]
    rows, mapping = epoch_rows(records, [float(i + 1) for i in range(n)], overrides)
    return Parsed(NAME, rows, mapping=mapping, notes=["list position i is epoch i + 1"])
