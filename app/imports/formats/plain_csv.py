"""A plain CSV with `epoch,train_loss,val_loss,…` (the contract's own import shape)."""

from collections.abc import Mapping

from app.imports.formats import keras_csv
from app.imports.parsed import Parsed

NAME = "plain_csv"


def sniff(text: str, filename: str) -> bool:
    header = [c.strip() for c in text.lstrip("\ufeff").split("\n", 1)[0].split(",")]
    return "epoch" in header and bool({"train_loss", "val_loss"} & set(header))


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    parsed = keras_csv.parse(text, filename, overrides)
    parsed.format = NAME
    return parsed
