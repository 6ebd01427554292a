"""A table of losses per epoch: the contract's `epoch,train_loss,val_loss` CSV and its kin
(other delimiters, other spellings of the columns, or columns named by a `mapping`)."""

from collections.abc import Mapping

from app.imports.formats import keras_csv
from app.imports.mapping import EPOCH_NAMES, find, resolve
from app.imports.parsed import Parsed
from app.imports.table import header_of

NAME = "plain_csv"
LOSS_ROLES = ("train_loss", "val_loss")


def sniff(text: str, filename: str) -> bool:
    """An epoch column and a loss, or both losses (rows are then epochs)."""
    header = header_of(text)
    found = [role for role in LOSS_ROLES if role in resolve(header)]
    return bool(found) and (find(header, EPOCH_NAMES) is not None or len(found) == len(LOSS_ROLES))


def parse(text: str, filename: str, overrides: Mapping[str, str] | None = None) -> Parsed:
    parsed = keras_csv.parse(text, filename, overrides)
    parsed.format = NAME
    return parsed
