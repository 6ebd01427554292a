"""What a run's losses are measured in does not change what went wrong with it.

A mean squared error in millimetres is a million times the same error in metres, a Gaussian
negative log-likelihood moves by a constant with the units, and a script that evaluates every
third epoch sees the same training. Each history below has its answer by construction (a
textbook overfit, an underfit plateau, a run stopped while both curves fall steeply); the engine
must give the same answer, with the same confidence, however the run reports it.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from app.analysis import History, Series, diagnose
from app.analysis.document import history_from_document

EPOCHS = np.arange(1, 61, dtype=float)
DECAY = np.exp(-EPOCHS / 10)
NOISE = np.random.default_rng(7)
CASES = {
    "overfitting": (
        0.02 + 2.28 * DECAY + NOISE.normal(0, 0.003, 60),
        0.30 + 2.0 * DECAY + 0.6 * np.maximum(0, EPOCHS / 60 - 0.3) + NOISE.normal(0, 0.008, 60),
    ),
    "underfitting": (
        1.25 + 1.05 * DECAY + NOISE.normal(0, 0.004, 60),
        1.24 + 1.05 * DECAY + NOISE.normal(0, 0.006, 60),
    ),
    "not_converged": (
        0.3 + 2.0 * np.exp(-EPOCHS / 120) + NOISE.normal(0, 0.002, 60),
        0.32 + 2.0 * np.exp(-EPOCHS / 120) + NOISE.normal(0, 0.003, 60),
    ),
}


def causes(train, val, every: int = 1) -> dict[str, float]:
    kept = np.arange(len(val)) % every == every - 1
    history = History(
        EPOCHS[: len(train)],
        {
            "train_loss": Series.full(np.asarray(train, float)),
            "val_loss": Series(np.where(kept, val, 0.0), kept),
        },
        config={},
        task="regression",
    )
    return {c.id: c.confidence for c in diagnose(history).causes}


@pytest.mark.parametrize("cause", sorted(CASES))
def test_the_units_of_the_loss_do_not_change_the_diagnosis(cause):
    train, val = CASES[cause]
    base = causes(train, val)
    assert max(base, key=base.__getitem__) == cause
    for scaled in (causes(1000 * train, 1000 * val), causes(train / 1000, val / 1000)):
        assert scaled.keys() == base.keys()
        assert all(abs(scaled[c] - base[c]) < 0.01 for c in base), (base, scaled)


@pytest.mark.parametrize("cause", ["overfitting", "not_converged"])
def test_a_loss_below_zero_reads_like_the_same_curves_above_it(cause):
    # A log-likelihood in other units moves by a constant. Shapes (a rise after the minimum,
    # curves still falling) survive it; how high a plateau sits does not, since such a loss
    # has no zero to measure it from (docs/diagnosis.md, "Losses below zero").
    train, val = CASES[cause]
    shifted = causes(train - 3.0, val - 3.0)
    assert max(shifted, key=shifted.__getitem__) == cause
    assert shifted[cause] >= 0.5
    assert all(p < 0.5 for c, p in shifted.items() if c != cause), shifted


@pytest.mark.parametrize("cause", sorted(CASES))
def test_validation_every_third_epoch_gives_the_same_answer(cause):
    train, val = CASES[cause]
    base, sparse = causes(train, val), causes(train, val, every=3)
    assert max(sparse, key=sparse.__getitem__) == cause
    assert abs(sparse[cause] - base[cause]) < 0.1


def test_accuracies_logged_in_percent_give_the_same_diagnosis():
    # Many training scripts print `100 * correct / total`: a point of accuracy is a point either
    # way. A peer's record whose validation accuracy stays within a point of training's (so its
    # inputs are seen as training's were, and no preprocessing mismatch is compatible) reads
    # the same with both accuracies in percent; read as shares, 97.1 against 96.6 was half a
    # unit apart and let the mismatch in.
    path = Path(__file__).parent / "fixtures" / "peers" / "deepfd-cov" / "dc04.json"
    document = json.loads(path.read_text())
    shares = diagnose(history_from_document(document))
    for row in document["epochs"]:
        for key in ("train_accuracy", "val_accuracy"):
            if row.get(key) is not None:
                row[key] = 100 * row[key]
    in_percent = diagnose(history_from_document(document))
    assert "accuracies_agree" in {s.id for s in in_percent.symptoms if s.present}
    assert [(c.id, c.confidence) for c in in_percent.causes] == [
        (c.id, c.confidence) for c in shares.causes
    ]
    assert [(s.id, s.present) for s in in_percent.symptoms] == [
        (s.id, s.present) for s in shares.symptoms
    ]
