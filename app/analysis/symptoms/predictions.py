"""What the logged accuracies say of the model's predictions on validation.

An accuracy is a count of right answers: the same value to the last digit at evaluation after
evaluation means the same validation samples were answered right, and while training accuracy
climbs by tens of points, that the model's answers on validation did not change as it learned.
A model that fits its training set moves its decision boundaries, and some validation answers
move with them, right or wrong: one memorizing samples it finds no signal in changes them at
random. Answers that never move are what inputs unlike any the model learned from get: every
one of them lands where the model says the same class (images left at 0-255 beside a training
set scaled to 0-1, a feature shifted by a forgotten standardization), or what normalizing with
statistics unlike training's batches gives (batch norm in eval mode). On the runs of both
generators and a throwaway batch, five showed it, all preprocessed differently; an accuracy
held at its ceiling, or held after training's stopped climbing (a small table's settled model),
is not it.
"""

import numpy as np

from app.analysis.curves import Curves
from app.analysis.symptoms.symptom import Symptom
from app.analysis.wording import count

# Validation accuracy held at one value over this many consecutive evaluations, and over this
# share of those that log both accuracies: a small set's count of right answers can sit still for
# a few evaluations by chance while the model changes (20 samples, 14 right five times running),
# not for half a run in which training accuracy climbed. The runs that showed it held from their
# first or second evaluation to their last ...
FROZEN_EVALUATIONS = 5
FROZEN_SHARE = 0.5
# ... while training accuracy rose this much over the same evaluations ...
FROZEN_TRAIN_RISE = 0.1
# ... and ended this far above it (an accuracy held at the ceiling that training reaches is a
# model answering every validation sample right, not one whose answers cannot move).
FROZEN_BELOW_TRAIN = 0.15


def _longest_hold(values: np.ndarray) -> tuple[int, int]:
    """The first and last index of the longest run of identical consecutive values."""
    changes = np.flatnonzero(np.diff(values) != 0) + 1
    starts = np.concatenate(([0], changes))
    ends = np.concatenate((changes, [len(values)])) - 1
    longest = int(np.argmax(ends - starts))
    return int(starts[longest]), int(ends[longest])


def frozen_predictions(c: Curves) -> list[Symptom]:
    """`val_predictions_frozen`, measured where both accuracies are logged often enough."""
    if c.train_acc is None or c.val_acc is None:
        return []
    both = np.isfinite(c.train_acc) & np.isfinite(c.val_acc)
    if both.sum() < FROZEN_EVALUATIONS:
        return []
    val, train, epochs = c.val_acc[both], c.train_acc[both], c.epoch[both]
    first, last = _longest_hold(val)
    held = val[first]
    rise = float(np.max(train[first : last + 1]) - train[first])
    frozen = (
        last - first + 1 >= max(FROZEN_EVALUATIONS, FROZEN_SHARE * len(val))
        and rise >= FROZEN_TRAIN_RISE
        and train[last] - held >= FROZEN_BELOW_TRAIN
    )
    return [
        Symptom(
            "val_predictions_frozen",
            frozen,
            round(rise, 4),
            "of training accuracy gained while validation accuracy held",
            f"validation accuracy holds at {held:.4g} for "
            f"{count(last - first + 1, 'evaluation')} (epochs {epochs[first]:g} to "
            f"{epochs[last]:g}) while training accuracy goes from {train[first]:.3g} to "
            f"{train[last]:.3g}: the model's answers on validation do not change as it learns",
        )
    ]
