"""A training that broke: the loss explodes, falls back to chance, or goes negative.

Each history below is one whose truth is known by construction (a cross entropy of 1e13 on ten
classes cannot come from a working optimizer); the engine must name the mechanisms that can
produce it and none that cannot.
"""

import math

import numpy as np

from app.analysis import History, Series, diagnose
from app.analysis.config_keys import config_finding, num_classes
from app.analysis.diagnose import assess
from app.analysis.document import history_from_document
from app.analysis.symptoms import present
from app.imports import detect

TEN = {"num_classes": 10, "loss": "cross_entropy"}
SPLIT_CAUSES = {
    "data_leakage",
    "easier_validation",
    "preprocessing_mismatch",
    "measurement_lag",
    "premature_early_stopping",
    "overfitting",
    "small_validation_noise",
}


def history(train, val=None, config=None, val_accuracy=None, task="classification") -> History:
    epochs = np.arange(1, len(train) + 1, dtype=float)
    series = {"train_loss": Series.full(np.asarray(train, float))}
    if val is not None:
        series["val_loss"] = Series.full(np.asarray(val, float))
    if val_accuracy is not None:
        series["val_accuracy"] = Series.full(np.asarray(val_accuracy, float))
    return History(epochs, series, config=config or {}, task=task)


def test_an_exploded_loss_without_a_nan_is_numerical_instability_and_nothing_about_the_split():
    # A LeNet at learning rate 9: Keras prints 1e13 and falling, never a NaN; validation sits
    # below training only because both are absurd.
    train = 8.8e13 * 0.8 ** np.arange(20)
    val = 5.0e13 * 0.8 ** np.arange(20)
    result = diagnose(history(train, val, {**TEN, "learning_rate": 9.0, "optimizer": "adamax"}))
    assert result.causes[0].id == "numerical_instability"
    assert result.causes[0].confidence >= 0.9
    assert not SPLIT_CAUSES & {c.id for c in result.causes}
    assert "loss_exploded" in present(assess(history(train, val, TEN)).symptoms)


def test_a_loss_that_climbs_a_thousandfold_mid_run_exploded_even_without_validation():
    train = [2.29, 5430.0, 63000.0, 2.23, 1.98, 1.9, 1.85, 1.8]
    result = diagnose(history(train, None, TEN))
    assert result.causes and result.causes[0].id == "numerical_instability"


def test_a_healthy_run_and_a_sum_reduced_loss_did_not_explode_or_collapse():
    epochs = np.arange(30)
    healthy = history(0.1 + 2.2 * np.exp(-epochs / 4), 0.15 + 2.1 * np.exp(-epochs / 4), TEN)
    summed = history(32 * (0.1 + 2.2 * np.exp(-epochs / 4)), 0.15 + 2.1 * np.exp(-epochs / 4), TEN)
    for run in (healthy, summed):
        found = present(assess(run).symptoms)
        assert not found & {"loss_exploded", "collapsed_to_chance", "at_chance", "negative_loss"}


def test_a_summed_loss_stuck_at_chance_never_rose_there_so_its_small_steps_stay_a_candidate():
    # Summed over batches of 64 at AdamW's 3e-3 / 64: the training loss sits 64 times above
    # ln C from the first step and creeps down; validation, a mean, creeps along chance. It
    # never climbed back to chance (no overshoot), so a rate too low is not ruled out.
    epochs = np.arange(25)
    ln4 = math.log(4)
    val = ln4 * (1.02 - 0.004 * np.log1p(epochs))
    summed = history(64 * val, val, {"num_classes": 4, "loss": "cross_entropy"})
    a = assess(summed)
    found = present(a.symptoms)
    assert "at_chance" in found
    assert "collapsed_to_chance" not in found
    assert "lr_too_low" in a.scores


def test_a_classifier_that_learned_then_fell_back_to_chance_collapsed():
    # RMSprop at 0.1: accuracy reaches 0.56, then the model predicts one class.
    ln10 = math.log(10)
    train = [1410.0, 2.68, 2.05, 2.42, 2.31, 2.31, 2.30]
    val = [2.99, 2.95, 1.76, 2.34, 2.31, 2.31, 2.31]
    acc = [0.19, 0.27, 0.56, 0.10, 0.11, 0.10, 0.10]
    a = assess(history(train, val, {**TEN, "learning_rate": 0.1, "optimizer": "rmsprop"}, acc))
    found = present(a.symptoms)
    assert {"at_chance", "collapsed_to_chance"} <= found
    assert "lr_too_high" in a.scores
    assert not {"not_converged", "premature_early_stopping", "lr_too_low"} & set(a.scores)
    assert abs(np.median(train[-2:]) / ln10 - 1) < 0.1


def test_a_classifier_stuck_at_chance_all_run_is_not_a_split_or_early_stopping_problem():
    train = [3.2, 2.45, 2.4, 2.35, 2.33, 2.32, 2.31, 2.31, 2.31, 2.31]
    val = [2.48, 2.42, 2.39, 2.35, 2.32, 2.31, 2.31, 2.31, 2.31, 2.30]
    acc = [0.10, 0.11, 0.10, 0.11, 0.10, 0.11, 0.10, 0.11, 0.10, 0.11]
    a = assess(history(train, val, {**TEN, "early_stopping_patience": 3}, acc))
    assert "at_chance" in present(a.symptoms)
    assert not {"premature_early_stopping", "overfitting", "data_leakage"} & set(a.scores)


def test_a_negative_cross_entropy_is_a_loss_computed_on_the_wrong_targets():
    train = -6290.0 * 3.0 ** np.arange(10)
    val = -23600.0 * 2.8 ** np.arange(10)
    result = diagnose(history(train, val, {"loss": "bce", "num_classes": 2}))
    assert "loss_computation_mismatch" in ids(result)
    assert not {"not_converged", "overfitting", "measurement_lag"} & set(ids(result))
    symptom = next(s for s in result.symptoms if s.id == "negative_loss")
    assert symptom.present and "loss_computation_mismatch" in symptom.explained_by


def test_a_loss_that_may_be_negative_is_not_flagged():
    # An unnamed regression loss (a negative log-likelihood of a density can go below zero).
    train = 1.0 - 0.1 * np.arange(20)
    found = present(assess(history(train, train + 0.05, {}, task="regression")).symptoms)
    assert "negative_loss" not in found


EPOCHS = np.arange(1, 61)
NOISE = np.random.default_rng(0)
# A Gaussian negative log-likelihood falls from 1 to -1: its zero is an additive constant.
NLL_TRAIN = -1.0 + 2.0 * np.exp(-EPOCHS / 8) + NOISE.normal(0, 0.01, 60)


def test_a_healthy_negative_log_likelihood_is_no_loss_computed_differently():
    val = NLL_TRAIN + 0.02 + NOISE.normal(0, 0.015, 60)
    for config in ({"loss": "gaussian_nll"}, {}):
        result = diagnose(history(NLL_TRAIN, val, config, task="regression"))
        assert "loss_computation_mismatch" not in ids(result)
        assert all(c.confidence < 0.5 for c in result.causes), result.causes


def test_a_loss_below_zero_is_read_like_the_same_curves_above_it():
    # Overfitting in a negative log-likelihood: validation turns up at epoch 15 while training
    # keeps falling. Shifted above zero the same curves read as overfitting; below it they must
    # too, with the values quoted as logged.
    train = -2.0 + 3.0 * np.exp(-EPOCHS / 8) + NOISE.normal(0, 0.01, 60)
    val = -0.6 + 1.6 * np.exp(-EPOCHS / 6) + 0.02 * np.maximum(0, EPOCHS - 15)
    val = val + NOISE.normal(0, 0.015, 60)
    config = {"loss": "gaussian_nll"}
    below = diagnose(history(train, val, config, task="regression"))
    above = diagnose(history(train + 2.5, val + 2.5, config, task="regression"))
    for result in (below, above):
        assert ids(result)[0] == "overfitting"
        assert all(c.confidence < 0.5 for c in result.causes if c.id != "overfitting")
    assert math.isclose(below.gap["train_loss"], train[-1])
    assert math.isclose(below.gap["val_loss"], val[-1])
    assert f"{val[-1]:.4g}" in below.summary


def test_the_configured_learning_rate_is_read_against_its_optimizer():
    def decades(config):
        return config_finding(config).features["cfg_lr_log"]

    assert decades({"optimizer": "adam", "learning_rate": 1e-3}) == 0.0
    assert decades({"optimizer": "Adam", "learning_rate": 1.0}) == 1.0  # three decades high
    assert decades({"optimizer": "sgd", "lr": 1e-6}) < -0.9
    assert decades({"optimizer": "adadelta", "learning_rate": 1.0}) == 0.0
    assert decades({"learning_rate": 9.0}) == 0.0  # no optimizer: no yardstick
    assert decades({"optimizer": "mystery", "learning_rate": 9.0}) == 0.0


def ids(result) -> list[str]:
    return [c.id for c in result.causes]


def test_a_binary_loss_names_two_classes_and_only_a_likelihood_has_a_chance_level():
    assert num_classes({"num_classes": 10}, "classification") == 10
    assert num_classes({"loss": "bce"}, "classification") == 2
    assert num_classes({"loss": "binary_crossentropy", "num_classes": True}, "classification") == 2
    assert num_classes({"loss": "mse"}, "classification") is None
    assert num_classes({"num_classes": 10}, "regression") is None
    # A binary classifier logging no class count, stuck at ln 2: at chance, by its loss's name.
    flat = np.full(10, math.log(2)) + 0.001 * np.arange(10)[::-1]
    stuck = present(assess(history(flat, flat + 0.002, {"loss": "bce"})).symptoms)
    assert "at_chance" in stuck
    assert "at_chance" not in present(assess(history(flat, flat + 0.002, {"loss": "mse"})).symptoms)
    # Mean absolute error on ten one-hot classes: 0.19 falling to 0.10 has not reached 4% of
    # chance (ln 10 is a cross entropy's, not an absolute error's); it ends at half its start.
    mae = 0.10 + 0.09 * np.exp(-np.arange(30) / 5)
    a = assess(history(mae, mae + 0.01, {"loss": "mae", "num_classes": 10}))
    plateau = a.symptoms["high_plateau"]
    assert plateau.present and plateau.value is not None and plateau.value > 0.5
    assert "of its starting loss" in plateau.detail


def test_one_unstable_step_of_a_loss_below_zero_is_instability_not_a_plateau():
    # A Gaussian negative log-likelihood falling to -1 with one epoch at 1e6: the spike must
    # not set the scale the rest of the run is read on (pressed into a flat line, it would be a
    # plateau: underfitting). Above zero the same run is numerical instability; below it too.
    train = NLL_TRAIN[:40].copy()
    train[20] = 1e6
    val = NLL_TRAIN[:40] + 0.02
    for shift in (0.0, 3.0):
        result = diagnose(
            history(train + shift, val + shift, {"loss": "gaussian_nll"}, task="regression")
        )
        assert ids(result)[0] == "numerical_instability"
        assert "underfitting" not in ids(result)


def test_a_binary_cross_entropy_is_at_chance_at_ln_2_however_many_labels_it_scores():
    # Twenty sigmoid outputs scored one by one: predicting nothing costs ln 2 on each, so a
    # multi-label model stuck at 0.69 learned nothing, though ln 20 would be 3.0.
    config = {"num_classes": 20, "loss": "binary_crossentropy"}
    stuck = np.log(2) * (1.01 - 0.002 * np.arange(12))
    a = assess(history(stuck, stuck + 0.002, config, [0.5] * 12))
    assert "at_chance" in present(a.symptoms)
    learned = history(
        0.1 + 0.6 * np.exp(-np.arange(12) / 3), 0.12 + 0.6 * np.exp(-np.arange(12) / 3), config
    )
    assert "at_chance" not in present(assess(learned).symptoms)


def test_a_classifier_that_never_left_chance_is_at_chance_without_num_classes():
    # A Keras CSV of a binary classifier: both losses at 0.693 all run, accuracy 0.5, and no
    # config saying how many classes there are. ln 2 and an accuracy of a half say it together;
    # the same losses beside an accuracy of 0.8 are a model that learned (a loss alone holds
    # at 0.69 on four classes too), and so is a curve that left ln C on the way.
    rng = np.random.default_rng(3)
    stuck = math.log(2) + rng.normal(0, 0.002, 20)
    for accuracy, config in ((0.5, {}), (0.5, {"optimizer": "adam"}), (0.8, {})):
        a = assess(history(stuck, stuck + 0.003, config, [accuracy] * 20))
        assert ("at_chance" in present(a.symptoms)) == (accuracy == 0.5), (accuracy, config)
    three = math.log(3) + rng.normal(0, 0.004, 20)
    assert "at_chance" in present(assess(history(three, three, {}, [0.34] * 20)).symptoms)
    left = math.log(3) * (1.0 - 0.3 * (np.arange(20) > 10))
    assert "at_chance" not in present(assess(history(left, left, {}, [0.34] * 20)).symptoms)
    assert "at_chance" not in present(assess(history(stuck, stuck + 0.003)).symptoms)


def test_a_keras_csv_of_a_classifier_stuck_at_chance_is_read_at_chance():
    # Keras' CSVLogger writes accuracy beside the losses and nothing else: no task, no config.
    # A run that logs an accuracy is a classifier, so its cross entropy held at ln 2 beside an
    # accuracy of a half is chance; the same log without the accuracy columns says neither.
    rows = ["epoch,accuracy,loss,val_accuracy,val_loss"] + [
        f"{e},{0.5 + 0.004 * (-1) ** e},{0.6934 - 0.0001 * e},0.5,{0.6932 + 0.0001 * (e % 2)}"
        for e in range(12)
    ]
    parsed = detect.parse("\n".join(rows).encode(), "training.log", None, None)
    document = parsed.document("stuck")
    assert document["task"] == "other"
    found = present(assess(history_from_document(document)).symptoms)
    assert "at_chance" in found
    losses_only = [",".join(row.split(",")[i] for i in (0, 2, 4)) for row in rows]
    parsed = detect.parse("\n".join(losses_only).encode(), "training.log", None, None)
    found = present(assess(history_from_document(parsed.document("stuck"))).symptoms)
    assert "at_chance" not in found
