"""Which logged series is the training loss, the validation loss and the accuracies.

Tools name them differently (`loss`, `train_loss_epoch`, `eval_loss`, `valid_loss`, `trn_loss`,
`Train Loss`, `loss/train` …). Names are compared after folding case and separators, and the
first known name present wins; a caller can override any role with `{"train_loss": "<column>",
...}`. Other numeric columns are kept as metrics under their own names.
"""

import re
from collections.abc import Iterable, Mapping

ROLES: dict[str, tuple[str, ...]] = {
    "train_loss": (
        "train_loss",
        "train_loss_epoch",
        "loss_epoch",
        "training_loss",
        "trn_loss",
        "tr_loss",
        "train/loss",
        "loss/train",
        "loss/training",
        "loss",
        "train_loss_step",
    ),
    "val_loss": (
        "val_loss",
        "valid_loss",
        "validation_loss",
        "val_loss_epoch",
        "eval_loss",
        "valid_loss_epoch",
        "validation_loss_epoch",
        "eval_loss_epoch",
        "dev_loss",
        "val/loss",
        "valid/loss",
        "validation/loss",
        "eval/loss",
        "loss/val",
        "loss/valid",
        "loss/validation",
        "test_loss",
    ),
    "train_accuracy": (
        "train_accuracy",
        "train_acc",
        "train_acc_epoch",
        "accuracy",
        "acc",
        "training_accuracy",
        "train/accuracy",
        "train/acc",
    ),
    "val_accuracy": (
        "val_accuracy",
        "val_acc",
        "valid_acc",
        "valid_accuracy",
        "val_acc_epoch",
        "eval_accuracy",
        "accuracy_val",
        "validation_accuracy",
        "val/accuracy",
        "val/acc",
    ),
}
EPOCH = "epoch"
MAPPING_ROLES = (EPOCH, *ROLES)
EPOCH_NAMES = ("epoch", "epochs", "epoch_num", "epoch_idx", "ep")
COUNTERS = (*EPOCH_NAMES, "it", "iter", "iteration", "step", "global_step")
SEPARATORS = re.compile(r"[\s_\-.]+")


class MappingError(ValueError):
    pass


def folded(name: str) -> str:
    """`Train Loss`, `train-loss` and `train_loss` alike; `/` is kept (it separates groups)."""
    return SEPARATORS.sub("_", name.strip().lower()).strip("_")


def find(present: Iterable[str], names: Iterable[str]) -> str | None:
    """The first of `names` among the columns `present`, compared folded; the column's own name."""
    by_folded: dict[str, str] = {}
    for column in present:
        by_folded.setdefault(folded(column), column)
    return next((by_folded[n] for n in map(folded, names) if n in by_folded), None)


def resolve(columns: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """role -> column, for the roles present. Overrides must name existing columns."""
    present = list(columns)
    chosen: dict[str, str] = {}
    for role, column in (overrides or {}).items():
        if role == EPOCH:
            continue
        if role not in ROLES:
            raise MappingError(
                f"unknown role {role!r} in the mapping; roles are {', '.join(MAPPING_ROLES)}"
            )
        if column not in present:
            raise MappingError(
                f"the mapping names column {column!r} for {role}, but the file has only: "
                f"{', '.join(present)}"
            )
        chosen[role] = column
    for role, names in ROLES.items():
        if role not in chosen:
            free = [c for c in present if c not in chosen.values()]
            found = find(free, names)
            if found is not None:
                chosen[role] = found
    return chosen


def suggestion(columns: Iterable[str]) -> dict[str, str]:
    """A ready-to-send `mapping` for columns no known name matched: loss-like columns first,
    one that says validation for `val_loss`; the user edits it if the guess is wrong."""
    columns = list(columns)
    counter = find(columns, COUNTERS)
    present = [c for c in columns if c != counter]
    losses = [c for c in present if "loss" in folded(c)] or present
    val = next((c for c in losses if VALIDATION.search(folded(c))), None)
    train = next((c for c in losses if c != val), None)
    guess = {EPOCH: counter} if counter else {}
    guess["train_loss"] = train or "<training loss column>"
    guess["val_loss"] = val or next((c for c in losses if c != train), "<validation loss column>")
    return guess


VALIDATION = re.compile(r"(^|[_/])(val|valid|validation|eval|dev|test)")
