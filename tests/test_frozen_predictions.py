"""Validation answers that never change while the model learns: inputs unlike training's."""

import numpy as np

from app.analysis import History, diagnose
from app.analysis.diagnose import assess
from app.analysis.differential import compatible
from tests.test_differential import with_accuracies
from tests.test_symptoms import history

EPOCHS = np.arange(1, 21, dtype=float)
CONFIG = {"optimizer": "adam", "learning_rate": 1e-3, "loss": "cross_entropy", "batch_size": 32}


def shifted_validation() -> History:
    """A four-class net whose validation inputs were scaled unlike training's: training learns
    (loss 1.30 to 0.95, accuracy 0.35 to 0.70), every validation input gets the same answer
    from the second epoch on (accuracy 0.3067, the class that answer is right for), and the
    validation loss climbs as that answer grows confident."""
    train = 1.30 - 0.35 * (1 - np.exp(-EPOCHS / 6))
    val = 1.39 + 0.3 * (1 - np.exp(-EPOCHS / 5)) + 0.02 * np.sin(EPOCHS)
    train_acc = 0.35 + 0.35 * (1 - np.exp(-EPOCHS / 6))
    val_acc = np.r_[0.24, np.full(19, 0.3067)]
    return with_accuracies(history(train, val, config=CONFIG), train_acc, val_acc)


def test_validation_accuracy_held_to_the_digit_while_training_learns_confirms_shifted_inputs():
    h = shifted_validation()
    a = assess(h)
    frozen = a.symptoms["val_predictions_frozen"]
    assert frozen.present
    assert "0.3067 for 19 evaluations" in frozen.detail
    # A model fitting past what generalizes moves its validation answers: not overfitting.
    assert "overfitting" not in compatible(a.symptoms)
    d = diagnose(h)
    assert d.causes[0].id == "preprocessing_mismatch"
    assert d.causes[0].confidence >= 0.5


def test_validation_accuracy_held_after_training_accuracy_stopped_climbing_is_not_frozen():
    # A small table: 60 validation samples, training accuracy reaches 1.0 by epoch 10 and
    # validation settles on 47 of 60 right (0.7833) from there: the model stopped changing.
    train_acc = np.minimum(1.0, 0.3 + 0.07 * EPOCHS)
    val_acc = np.r_[0.40, 0.50, 0.60, 0.65, 0.70, 0.75, 0.7667, 0.80, 0.7667, np.full(11, 0.7833)]
    h = shifted_validation()
    symptom = assess(with_accuracies(h, train_acc, val_acc)).symptoms["val_predictions_frozen"]
    assert not symptom.present


def test_validation_accuracy_held_at_the_ceiling_is_a_model_answering_every_sample_right():
    train_acc = 0.60 + 0.35 * (1 - np.exp(-EPOCHS / 6))
    h = shifted_validation()
    symptom = assess(with_accuracies(h, train_acc, np.ones(20))).symptoms["val_predictions_frozen"]
    assert not symptom.present


def test_validation_answers_moving_at_random_while_training_memorizes_are_not_frozen():
    # Memorizing samples it finds no signal in changes validation answers at random: the
    # accuracy wanders around chance, never the same five times running.
    rng = np.random.default_rng(3)
    val_acc = np.round(0.25 + rng.normal(0, 0.02, 20), 4)
    h = shifted_validation()
    train_acc = 0.35 + 0.6 * (1 - np.exp(-EPOCHS / 6))
    symptom = assess(with_accuracies(h, train_acc, val_acc)).symptoms["val_predictions_frozen"]
    assert not symptom.present


def test_a_small_sets_count_sitting_still_for_a_few_evaluations_of_a_long_run_is_not_frozen():
    # 20 validation samples, 13 right six times running in the middle of a 20-epoch overfit
    # while training accuracy climbs 0.12: a count this coarse sits still by chance.
    train_acc = np.linspace(0.55, 1.0, 20)
    val_acc = np.r_[0.5, 0.55, 0.6, 0.55, 0.6, 0.6, np.full(6, 0.65), 0.7, 0.65, 0.6, 0.65]
    val_acc = np.r_[val_acc, 0.7, 0.65, 0.7, 0.65]
    h = shifted_validation()
    symptom = assess(with_accuracies(h, train_acc, val_acc)).symptoms["val_predictions_frozen"]
    assert not symptom.present
    assert "0.65 for 6 evaluations" in symptom.detail
