"""Which logged series is the training loss, the validation loss and the accuracies.

Tools name them differently (`loss`, `train_loss_epoch`, `eval_loss`, `valid_loss`, `val/box_loss`
…). The first known name present wins; a caller can override any role with
`{"train_loss": "<column>", ...}`. Other numeric columns are kept as metrics under their own
names.
"""

from collections.abc import Iterable, Mapping

ROLES: dict[str, tuple[str, ...]] = {
    "train_loss": (
        "train_loss",
        "train_loss_epoch",
        "loss_epoch",
        "training_loss",
        "train/loss",
        "loss",
        "train_loss_step",
    ),
    "val_loss": (
        "val_loss",
        "valid_loss",
        "validation_loss",
        "val_loss_epoch",
        "eval_loss",
        "val/loss",
        "validation/loss",
        "test_loss",
    ),
    "train_accuracy": (
        "train_accuracy",
        "train_acc",
        "train_acc_epoch",
        "accuracy",
        "acc",
        "train/accuracy",
    ),
    "val_accuracy": (
        "val_accuracy",
        "val_acc",
        "valid_acc",
        "valid_accuracy",
        "val_acc_epoch",
        "eval_accuracy",
        "accuracy_val",
        "val/accuracy",
    ),
}


class MappingError(ValueError):
    pass


def resolve(columns: Iterable[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """role -> column, for the roles present. Overrides must name existing columns."""
    present = list(columns)
    chosen: dict[str, str] = {}
    for role, column in (overrides or {}).items():
        if role not in ROLES:
            raise MappingError(
                f"unknown role {role!r} in the mapping; roles are {', '.join(ROLES)}"
            )
        if column not in present:
            raise MappingError(
                f"the mapping names column {column!r} for {role}, but the file has only: "
                f"{', '.join(present)}"
            )
        chosen[role] = column
    taken = set(chosen.values())
    for role, names in ROLES.items():
        if role in chosen:
            continue
        for name in names:
            if name in present and name not in taken:
                chosen[role] = name
                taken.add(name)
                break
    return chosen
