"""Symptoms measured the way the mechanism behind them shows, on curves whose answer is known."""

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.analysis import History, Series, diagnose
from app.analysis.checks import gap as gaps
from app.analysis.checks.gap import accuracy_lattice
from app.analysis.curves import prepare
from app.analysis.diagnose import assess
from app.analysis.differential import (
    CONFIRMED,
    UNCLAIMED,
    compatible,
    confidences,
    confirmations,
)
from app.analysis.document import history_from_document
from app.analysis.symptoms import present
from tests.test_differential import SUITE_BY_NAME, probe_like, with_accuracies


def history(train, val, steps=None, config=None) -> History:
    epochs = np.arange(1, len(train) + 1, dtype=float)
    series = {
        "train_loss": Series.full(np.asarray(train, float)),
        "val_loss": Series.full(np.asarray(val, float)),
    }
    step, step_series = np.zeros(0, np.int64), {}
    if steps is not None:
        position, loss = steps
        step = np.arange(len(loss), dtype=np.int64)
        step_series = {"epoch": Series.full(position), "train_loss": Series.full(loss)}
    return History(epochs, series, step, step_series, config or {}, task="classification")


def training_only(train) -> History:
    epochs = np.arange(1, len(train) + 1, dtype=float)
    series = {"train_loss": Series.full(np.asarray(train, float))}
    return History(epochs, series, task="classification")


def logged_steps(epochs, per_epoch, curve, noise, seed):
    """Step losses around `curve` (of the fractional epoch), their positions, and each epoch's
    mean as a logger reports it."""
    rng = np.random.default_rng(seed)
    position = np.concatenate([e + np.arange(1, per_epoch + 1) / per_epoch for e in range(epochs)])
    steps = curve(position) * np.exp(rng.normal(0, noise, len(position)))
    return position, steps, steps.reshape(epochs, per_epoch).mean(axis=1)


def test_a_material_gap_growing_by_a_tenth_of_itself_widens_in_a_log_that_starts_late():
    # The last 15 epochs of a long run (a scrollback): training creeps from 4.61 to 4.37 while
    # validation stays at 5.97, a gap of 1.4 that grows to 1.6. Relative to the loss that is
    # little movement; relative to the gap it is a widening a reader sees at once.
    rng = np.random.default_rng(0)
    train = np.linspace(4.61, 4.37, 15)
    val = 5.97 + rng.normal(0, 0.01, 15)
    result = diagnose(history(train, val))
    widens = next(s for s in result.symptoms if s.id == "gap_widens")
    assert widens.present and widens.value is not None and widens.value < 0.05
    assert "overfitting" in [c.id for c in result.causes]
    # The same gap held constant does not widen.
    steady = diagnose(history(train, train + 1.4 + rng.normal(0, 0.01, 15)))
    assert not next(s for s in steady.symptoms if s.id == "gap_widens").present


def test_a_training_curve_of_few_sampled_batches_is_not_one_batch_when_its_steps_say_so():
    # Each epoch's training loss is the mean of 15 sampled batch losses (a logger writing every
    # 50 steps): it jitters far more than validation. Without the steps that looks like one
    # batch reported as the epoch's loss; with them, their epoch means are the reported loss.
    epochs = 25
    position, batches, train = logged_steps(
        epochs, 15, lambda t: 0.3 + 0.3 * np.exp(-t / 4), 0.6, 1
    )
    val = 0.33 + 0.3 * np.exp(-np.arange(1, epochs + 1) / 4)

    sizes = {"train_size": 24000, "batch_size": 32}  # 750 batches an epoch

    def scale_mismatch(steps) -> bool:
        run = history(train, val, steps, config=sizes)
        return "loss_scale_mismatch" in present(assess(run).symptoms)

    assert scale_mismatch(None)
    assert not scale_mismatch((position, batches))
    # Steps whose epoch means are not the reported loss still tell it apart.
    assert scale_mismatch((position, batches * 2))


def test_validation_rising_after_its_minimum_is_overfitting_even_below_a_regularized_train():
    # Heavy dropout keeps the reported training loss above validation all run, yet validation
    # turns up after epoch 10 while training keeps falling: the model is memorizing, and the
    # sign of the gap only says how much dropout inflates the training loss.
    e = np.arange(1, 31, dtype=float)
    train = 1.2 + 1.0 * np.exp(-e / 6)
    val = 0.5 + 1.2 * np.exp(-e / 4) + 0.012 * np.clip(e - 10, 0, None)
    symptoms = assess(history(train, val)).symptoms
    found = present(symptoms)
    assert "val_rises_after_min" in found and "val_above_train" not in found
    assert "overfitting" in compatible(symptoms)


def test_a_slow_run_at_a_rate_far_below_the_usual_one_is_a_learning_rate_too_low():
    # Adamax at 1e-6 (its usual rate is 2e-3) creeps down from chance for 30 epochs: training
    # ten times faster is within reach. The same curve at the usual rate is no such evidence,
    # nor at a rate pretrained models are fine-tuned at (AdamW 1e-5), and a rate far below the
    # usual one is none on a run that trained fine.
    e = np.arange(1, 31, dtype=float)
    slow = 2.4 - 0.01 * e
    result = diagnose(
        history(slow, slow + 0.01, config={"optimizer": "adamax", "learning_rate": 1e-6})
    )
    assert "lr_far_below_usual" in {s.id for s in result.symptoms if s.present}
    assert result.causes[0].id == "lr_too_low" and result.causes[0].confidence >= 0.9
    usual = diagnose(
        history(slow, slow + 0.01, config={"optimizer": "adamax", "learning_rate": 2e-3})
    )
    assert not [c for c in usual.causes if c.id == "lr_too_low" and c.confidence >= 0.9]
    tuning = assess(
        history(slow, slow + 0.01, config={"optimizer": "adamw", "learning_rate": 1e-5})
    )
    assert "lr_far_below_usual" not in present(tuning.symptoms)
    trained = 0.05 + 2.3 * np.exp(-e / 3)
    fine = diagnose(
        history(trained, trained + 0.01, config={"optimizer": "sgd", "learning_rate": 1e-5})
    )
    assert "lr_too_low" not in [c.id for c in fine.causes]


def test_validation_is_not_stuck_because_the_first_epoch_mean_includes_the_initialization():
    # MNIST learns most of what it will in the first epoch: the epoch-mean training loss of
    # epoch one (0.43) averages weights from their initialization on, validation (0.14) is
    # measured at its end. From then on both fall together; a validation that stays put while
    # training falls is stuck.
    e = np.arange(1, 16, dtype=float)
    train = 0.05 + 0.07 * np.exp(-(e - 2) / 4)
    train[0] = 0.43
    val = 0.06 + 0.08 * np.exp(-(e - 1) / 4)

    def stuck(v) -> bool:
        return "val_stuck" in present(assess(history(train, v)).symptoms)

    assert not stuck(val)
    assert stuck(np.full(15, 0.3) + 0.001 * np.sin(e))


def last_batch_reported() -> tuple[np.ndarray, np.ndarray]:
    """Thirty epochs of a training loss jumping up and down around a smooth validation: one
    batch's loss reported as the epoch's."""
    rng = np.random.default_rng(2)
    e = np.arange(1, 31, dtype=float)
    val = 0.3 + 0.5 * np.exp(-e / 5)
    return val * np.exp(rng.normal(0, 0.35, 30)), val


def test_a_steep_uneven_fall_is_not_the_jitter_of_one_batch():
    # Four epochs of a fast-learning run: the training loss drops 0.82 -> 0.28 -> 0.22 -> 0.18,
    # far more unevenly than validation, but it never turns: no batch noise in that. Thirty
    # epochs of a training loss jumping up and down around its trend, next to a smooth
    # validation, are.
    short = assess(history([0.818, 0.283, 0.216, 0.183], [0.349, 0.231, 0.19, 0.161]))
    assert "loss_scale_mismatch" not in present(short.symptoms)
    one_batch, val = last_batch_reported()
    sizes = {"train_size": 1600, "batch_size": 16}
    assert "loss_scale_mismatch" in present(assess(history(one_batch, val, config=sizes)).symptoms)


def test_a_jittering_training_loss_is_not_one_batch_when_the_epoch_may_hold_few():
    # A training set of 120 samples in batches of 32: the epoch mean of 4 batch losses
    # jitters by a third of the level while validation, scored at one instant, is smooth, as a
    # last batch reported alone does. Sent without its sizes (a Keras CSV), nothing tells the
    # two apart, and a confirmed "losses computed differently" would rest on a guess; with
    # sizes saying 100 batches an epoch, the jitter is more than their mean can have.
    rng = np.random.default_rng(2)
    e = np.arange(1, 31, dtype=float)
    val = 0.3 + 0.5 * np.exp(-e / 5)
    train = val * np.exp(rng.normal(0, 0.35, 30))
    unknown = assess(history(train, val))
    assert "train_jitters_like_one_batch" not in present(unknown.symptoms)
    assert unknown.scores.get("loss_computation_mismatch", 0.0) < 0.5
    few = assess(history(train, val, config={"train_size": 120, "batch_size": 32}))
    assert "train_jitters_like_one_batch" not in present(few.symptoms)
    many = assess(history(train, val, config={"train_size": 3200, "batch_size": 32}))
    assert "train_jitters_like_one_batch" in present(many.symptoms)
    assert many.scores["loss_computation_mismatch"] >= 0.9


def test_a_last_batch_reported_shows_beside_validation_logged_every_other_epoch():
    # Twenty epochs of a training loss that jitters like one batch reported (100 batches an
    # epoch) beside a smooth validation loss evaluated every other epoch: the training loss is
    # judged on all of its twenty epochs, not only the ten that have a validation loss beside
    # them, too few for the jitter's turns to count.
    rng = np.random.default_rng(3)
    e = np.arange(1, 21, dtype=float)
    smooth = 0.1 + 0.9 * np.exp(-e / 2)
    train = smooth * np.exp(rng.normal(0, 0.45, 20))
    val = np.where(e % 2 == 0, smooth * 1.05, np.nan)
    sizes = {"train_size": 900, "batch_size": 9, "val_every": 2}
    result = assess(history(train, val, config=sizes))
    assert "train_jitters_like_one_batch" in present(result.symptoms)
    assert result.scores["loss_computation_mismatch"] >= 0.9


def test_a_training_loss_far_above_validation_jitters_as_much_relative_to_its_own_level():
    # Batch statistics at a high rate hold the reported training loss at ten times validation
    # (0.15 against 0.015): both jitter by 12% of their own level, so training jitters ten
    # times as much in absolute terms. That is one noise on two levels, not one batch
    # reported; a training loss that jitters four times as much as validation relative to its
    # own level is.
    rng = np.random.default_rng(4)
    e = np.arange(1, 31, dtype=float)
    sizes = {"train_size": 1050, "batch_size": 32}
    val = (0.015 + 0.9 * np.exp(-e / 4)) * np.exp(rng.normal(0, 0.12, 30))
    high = (0.15 + 0.9 * np.exp(-e / 4)) * np.exp(rng.normal(0, 0.12, 30))
    assert "train_jitters_like_one_batch" not in present(
        assess(history(high, val, config=sizes)).symptoms
    )
    jumpy = (0.15 + 0.9 * np.exp(-e / 4)) * np.exp(rng.normal(0, 0.5, 30))
    assert "train_jitters_like_one_batch" in present(
        assess(history(jumpy, val, config=sizes)).symptoms
    )


def ten_classes_at_chance() -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """A ten-class model at chance (ln 10) over 80 epochs of 8 AdamW batches, without its
    rate: training and validation losses and the config."""
    rng = np.random.default_rng(8)
    e = np.arange(1, 81, dtype=float)
    train = np.log(10) + 0.05 * np.exp(-e / 30) + rng.normal(0, 0.002, 80)
    val = np.log(10) + 0.06 + rng.normal(0, 0.002, 80)
    config = {"optimizer": "adamw", "train_size": 1000, "batch_size": 128, "num_classes": 10}
    return train, val, config


def test_at_chance_after_steps_that_could_not_move_the_weights_is_a_rate_too_low():
    # A ten-class model at chance (ln 10) after 80 epochs of 8 batches with AdamW at 8e-5, a
    # tenth of its usual rate: AdamW moves each weight by about the rate a step, 0.05 in all,
    # less than the scale weights start at. The model never left its initialization: the steps
    # were too small, whatever its capacity, and the rate too low is confirmed. At 1.5e-4, a
    # usual rate (0.1 in all), the run was short as much as its steps were small, on a task that
    # may need more than either: the rate is claimed on the models' word, not confirmed. At
    # 3e-3 (1.9 in all) the same curve says a model counted with under a parameter per training
    # sample cannot fit.
    train, val, config = ten_classes_at_chance()
    acc = np.full(80, 0.1)

    def run(lr: float, **more: object):
        h = history(train, val, config={**config, "learning_rate": lr, **more})
        series = {**h.epoch_series, "train_accuracy": Series.full(acc)}
        return assess(replace(h, epoch_series={**series, "val_accuracy": Series.full(acc)}))

    slow = run(8e-5)
    found = present(slow.symptoms)
    assert {"at_chance", "few_steps_for_the_rate", "stuck_on_a_tiny_step_budget"} <= found
    assert "stuck_on_a_tiny_step_budget_below_the_usual_rate" in found
    assert "at_chance_at_a_usual_rate" not in found
    assert max(slow.scores, key=slow.scores.__getitem__) == "lr_too_low"
    assert slow.scores["lr_too_low"] >= 0.9
    short = run(1.5e-4)
    found = present(short.symptoms)
    assert {"stuck_on_a_tiny_step_budget", "lr_usual"} <= found
    assert "stuck_on_a_tiny_step_budget_below_the_usual_rate" not in found
    assert ("lr_too_low",) not in confirmations(found, compatible(short.symptoms))
    assert max(short.scores, key=short.scores.__getitem__) == "lr_too_low"
    assert short.scores["lr_too_low"] > UNCLAIMED
    usual = run(3e-3, parameters=300)
    found = present(usual.symptoms)
    assert "few_steps_for_the_rate" not in found and "at_chance_with_few_parameters" in found
    assert max(usual.scores, key=usual.scores.__getitem__) == "underfitting"


def test_a_stall_at_chance_is_small_steps_only_where_the_first_steps_may_have_been_small():
    # A three-class GRU at chance (ln 3) for six epochs, then learning down to a third of it,
    # AdamW at 2.8e-3, three times its usual rate. With a warm-up the config does not measure
    # (steps, with the batches an epoch takes unknown), the first steps may have been small: a
    # rate too low, confirmed. Under a warm-up of a tenth of the run, the stall outlasted the
    # small first steps and sat at chance at the full rate as well: a plateau as often as steps
    # too small (ten times the rate helped 10 of 16 such runs), so the models weigh it. Under a
    # cosine schedule the first steps took the full rate: the start was a plateau of the loss,
    # which larger steps need not shorten, and the stall confirms nothing (it still makes the
    # rate a candidate the models weigh).
    train = np.r_[
        [1.1, 1.098, 1.097, 1.097, 1.096, 1.095, 1.02, 0.825, 0.813, 0.647, 0.606, 0.525, 0.486],
        [0.462, 0.427, 0.418, 0.41, 0.401, 0.378, 0.358, 0.359, 0.356, 0.348, 0.34, 0.339, 0.33],
    ]
    val = np.r_[
        [1.1, 1.1, 1.1, 1.1, 1.09, 1.08, 0.948, 0.789, 0.691, 0.595, 0.534, 0.495, 0.491, 0.437],
        [0.448, 0.486, 0.407, 0.452, 0.404, 0.414, 0.406, 0.416, 0.411, 0.409, 0.406, 0.406],
    ]
    config = {"optimizer": "adamw", "learning_rate": 2.8e-3, "num_classes": 3, "epochs": 26}
    unmeasured = assess(
        history(train, val, config={**config, "lr_schedule": "cosine", "warmup_steps": 100})
    )
    found = present(unmeasured.symptoms)
    assert {"stalled_at_chance", "stalled_on_small_first_steps"} <= found
    assert "first_steps_not_small" not in found and "left_chance_while_warming_up" not in found
    assert unmeasured.scores["lr_too_low"] >= 0.9
    warm = assess(history(train, val, config={**config, "warmup_ratio": 0.1}))
    found = present(warm.symptoms)
    assert {"stalled_at_chance", "stalled_past_the_warm_up"} <= found
    assert "stalled_on_small_first_steps" not in found
    assert ("lr_too_low",) not in confirmations(found, compatible(warm.symptoms))
    assert 0 < warm.scores["lr_too_low"] < 0.9
    # Under one-cycle, whose rate climbs for a quarter of the run (6.5 epochs), the model left
    # chance while the rate still climbed: a rate below the configured one was enough to leave
    # the start, and the stall confirms nothing (ten times the rate helped 4 of 9 such runs).
    cycle = assess(history(train, val, config={**config, "lr_schedule": "onecycle"}))
    found = present(cycle.symptoms)
    assert {"stalled_at_chance", "left_chance_while_warming_up"} <= found
    assert "stalled_on_small_first_steps" not in found
    assert ("lr_too_low",) not in confirmations(found, compatible(cycle.symptoms))
    # A climb of three epochs, as the config counts it: the stall outlasted it.
    longer = assess(
        history(train, val, config={**config, "lr_schedule": "onecycle", "warmup_epochs": 3})
    )
    assert "stalled_past_the_warm_up" in present(longer.symptoms)
    cosine = assess(history(train, val, config={**config, "lr_schedule": "cosine"}))
    found = present(cosine.symptoms)
    assert {"stalled_at_chance", "first_steps_not_small"} <= found
    assert "stalled_on_small_first_steps" not in found
    assert ("lr_too_low",) not in confirmations(found, compatible(cosine.symptoms))
    assert "lr_too_low" in cosine.scores
    # Warm restarts return to the configured rate and start there, by any of their names; a
    # cyclic rate starts below it.
    for name in ("cosine_with_restarts", "CosineAnnealingWarmRestarts", "SGDR", "Cosine-Decay"):
        named = present(
            assess(history(train, val, config={**config, "lr_schedule": name})).symptoms
        )
        assert "first_steps_not_small" in named and "stalled_on_small_first_steps" not in named
    cyclic = assess(history(train, val, config={**config, "lr_schedule": "cyclic"}))
    assert "stalled_on_small_first_steps" in present(cyclic.symptoms)
    # A warm-up the config counts in steps starts small under any schedule's name.
    warmed = assess(
        history(train, val, config={**config, "lr_schedule": "cosine", "warmup_steps": 100})
    )
    assert "stalled_on_small_first_steps" in present(warmed.symptoms)
    # With the batches an epoch takes known (640 samples in batches of 64), those 100 steps are
    # ten epochs of climb, and the model left chance within them.
    counted = assess(
        history(
            train,
            val,
            config={
                **config,
                "lr_schedule": "cosine",
                "warmup_steps": 100,
                "train_size": 640,
                "batch_size": 64,
            },
        )
    )
    found = present(counted.symptoms)
    assert "left_chance_while_warming_up" in found
    assert "stalled_on_small_first_steps" not in found


def test_a_stall_at_chance_at_the_full_rate_from_the_first_step_does_not_claim_a_rate_too_low():
    # An LSTM on 200 samples of four classes, AdamW at twice its usual rate held constant: at
    # chance (ln 4) for ten epochs, then learning, then validation turning back up. The first
    # steps took the full rate, so the start was a plateau of the loss, not steps too small
    # to leave it, and ten times the rate did not shorten it: the stall is no claim for a rate
    # too low (the models read 0.74 into it), which stays a candidate.
    train = [
        *(1.387, 1.379, 1.378, 1.377, 1.38, 1.374, 1.372, 1.374, 1.371, 1.367, 1.36, 1.344),
        *(1.334, 1.333, 1.282, 1.284, 1.275, 1.231, 1.232, 1.235, 1.208, 1.18, 1.188, 1.17),
        *(1.155, 1.143, 1.163, 1.138, 1.143, 1.119, 1.123, 1.131, 1.113, 1.096, 1.126, 1.156),
        *(1.124, 1.07, 1.043, 1.064),
    ]
    val = [
        *(1.392, 1.396, 1.398, 1.405, 1.404, 1.399, 1.398, 1.396, 1.397, 1.398, 1.388, 1.438),
        *(1.369, 1.352, 1.313, 1.311, 1.343, 1.273, 1.306, 1.269, 1.263, 1.239, 1.248, 1.239),
        *(1.272, 1.254, 1.288, 1.261, 1.24, 1.25, 1.248, 1.334, 1.308, 1.257, 1.304, 1.318),
        *(1.313, 1.277, 1.277, 1.387),
    ]
    config = {
        "optimizer": "adamw",
        "learning_rate": 2e-3,
        "lr_schedule": "none",
        "num_classes": 4,
        "batch_size": 32,
        "train_size": 200,
        "epochs": 40,
    }
    constant = assess(history(np.array(train), np.array(val), config=config))
    found = present(constant.symptoms)
    assert {"stalled_at_chance", "first_steps_not_small"} <= found
    assert 0 < constant.scores["lr_too_low"] <= UNCLAIMED
    # Under one-cycle's warm-up, climbing for a quarter of the run, the same stall outlasted the
    # small first steps: steps too small as often as a plateau, which the models weigh, above
    # a candidate.
    warm = assess(
        history(np.array(train), np.array(val), config={**config, "lr_schedule": "onecycle"})
    )
    assert "stalled_past_the_warm_up" in present(warm.symptoms)
    assert warm.scores["lr_too_low"] > UNCLAIMED


def test_steps_too_small_to_move_a_weight_at_a_low_rate_leave_a_rate_too_low_open_on_a_flat_curve():
    # A transformer regression at 4.4e-5, a 22nd of AdamW's usual rate: 531 steps move each
    # weight by 0.024 at most. Its untrained outputs start off scale (2.2 against a target of
    # unit variance), the loss falls fast while the output scale settles, then flattens: no
    # plateau against that start, no fall left that counts. The steps are the mechanism itself,
    # counted from the config: the rate too low stays a candidate (ten times the rate helped).
    # At the usual rate the same curve says nothing of the step size.
    epochs = np.arange(1, 18, dtype=float)
    train = 0.78 + 1.4 * np.exp(-(epochs - 1) / 2.2)
    val = train + 0.03 - 0.4 * np.exp(-(epochs - 1) / 2.0)
    config = {"optimizer": "adamw", "train_size": 500, "batch_size": 16, "epochs": 17}
    config |= {"loss": "mse", "lr_schedule": "none"}

    def run(lr: float) -> History:
        h = history(train, val, config={**config, "learning_rate": lr})
        return replace(h, task="regression")

    slow = assess(run(4.4e-5))
    found = present(slow.symptoms)
    assert {"tiny_step_budget", "lr_below_usual", "tiny_steps_below_the_usual_rate"} <= found
    assert not {"high_plateau", "train_still_improving", "train_stuck"} & found
    assert "lr_too_low" in compatible(slow.symptoms)
    assert "lr_too_low" in [c.id for c in diagnose(run(4.4e-5)).causes]
    usual = assess(run(1e-3))
    assert "tiny_steps_below_the_usual_rate" not in present(usual.symptoms)
    assert "lr_too_low" not in compatible(usual.symptoms)


def test_a_loss_that_jumped_by_orders_of_magnitude_was_not_stuck_on_a_tiny_step_budget():
    # The same ten-class model at chance after AdamW steps that add up to 0.1, but its
    # training loss jumped thirtyfold in the third epoch: the weights did move (an adaptive
    # optimizer's first steps run far above its nominal rate), so the steps were not too small
    # to leave the start, whatever holds the loss at chance now.
    train, val, config = ten_classes_at_chance()
    config["learning_rate"] = 1.5e-4
    jumped = train.copy()
    jumped[2] *= 30
    found = present(assess(history(jumped, val, config=config)).symptoms)
    assert "loss_jump" in found and "tiny_step_budget" in found
    assert "stuck_on_a_tiny_step_budget" not in found
    assert "stuck_on_a_tiny_step_budget" in present(
        assess(history(train, val, config=config)).symptoms
    )


def test_at_chance_since_the_first_epoch_at_a_far_higher_rate_shows_no_overshoot():
    # SGD at 0.3, thirty times its usual rate, a ten-class model at chance after 80 epochs and
    # 625 steps. Sitting there from its first epoch, it may never have learned at any rate (a
    # task its model cannot learn): the rate and the model's size are candidates, neither is
    # claimed. Come down to chance from a first epoch 40% above it (confident mistakes, then
    # units that no longer fit), it shows the overshoot, and the rate is confirmed.
    train, val, config = ten_classes_at_chance()
    sgd = {**config, "optimizer": "sgd", "learning_rate": 0.3}
    flat = assess(history(train, val, config=sgd))
    found = present(flat.symptoms)
    assert {"at_chance", "lr_far_above_usual", "at_chance_after_enough_steps"} <= found
    assert not found & {"at_chance_from_above", "overshoots_at_a_far_higher_rate"}
    assert flat.scores["lr_too_high"] <= UNCLAIMED
    assert flat.scores.get("underfitting", 0.0) <= UNCLAIMED
    down = assess(history(np.r_[1.4 * np.log(10), train[1:]], val, config=sgd))
    assert {"at_chance_from_above", "overshoots_at_a_far_higher_rate"} <= present(down.symptoms)
    assert down.scores["lr_too_high"] >= 0.9
    # A loss summed over each batch sits far above chance throughout: no way down to it.
    summed = assess(history(128 * train, val, config=sgd))
    assert "at_chance_from_above" not in present(summed.symptoms)


def test_steps_that_ten_times_the_rate_could_not_move_either_confirm_no_rate_too_low():
    # The same model at chance after 640 AdamW steps at 1e-5: they add up to 0.0064, and ten
    # times the rate, the rerun a rate too low is judged by, would still move each weight by
    # under 0.1: it cannot leave the start either. The small steps stay a candidate the models
    # weigh (13 of 18 such throwaway runs were not helped by ten times the rate); at 1.5e-4
    # (0.096 in all) ten times the rate can, and the rate too low is confirmed.
    train, val, config = ten_classes_at_chance()
    tiny = assess(history(train, val, config={**config, "learning_rate": 1e-5}))
    found = present(tiny.symptoms)
    assert {"tiny_step_budget", "tiny_step_budget_at_ten_times_the_rate"} <= found
    assert "stuck_on_a_tiny_step_budget" not in found
    assert "lr_too_low" in tiny.scores
    small = assess(history(train, val, config={**config, "learning_rate": 1.5e-4}))
    assert "tiny_step_budget_at_ten_times_the_rate" not in present(small.symptoms)
    assert "stuck_on_a_tiny_step_budget" in present(small.symptoms)


def test_a_loss_stuck_after_a_few_dozen_steps_is_no_evidence_of_a_rate_too_low():
    # SGD at a twentieth of its usual rate, a model at chance for 12 epochs of 3 batches: 36
    # steps may be too few at any rate, so the stuck loss does not claim a rate too low. The
    # same curves over 12 epochs of 50 batches (600 steps) do: steps enough to leave the start.
    train, val, _ = ten_classes_at_chance()
    train, val = train[:12], val[:12]
    sgd = {"optimizer": "sgd", "learning_rate": 5e-4, "batch_size": 32, "num_classes": 10}
    few = assess(history(train, val, config={**sgd, "train_size": 96}))
    found = present(few.symptoms)
    assert {"few_steps_taken", "train_stuck", "lr_below_usual"} <= found
    assert not found & {"stuck_after_enough_steps", "at_chance_after_enough_steps"}
    assert few.scores.get("lr_too_low", 0.0) < 0.5
    many = assess(history(train, val, config={**sgd, "train_size": 1600}))
    assert "stuck_not_at_a_usual_rate" in present(many.symptoms)
    assert many.scores["lr_too_low"] >= 0.5
    # At a third of the usual rate, 600 steps moved the weights as far as ten times the rate
    # is meant to: what holds the loss there is no evidence that the steps were too small.
    usual = assess(history(train, val, config={**sgd, "learning_rate": 3e-3, "train_size": 1600}))
    found = present(usual.symptoms)
    assert {"stuck_after_enough_steps", "lr_usual"} <= found
    assert not found & {"stuck_not_at_a_usual_rate", "at_chance_not_at_a_usual_rate"}
    assert usual.scores.get("lr_too_low", 0.0) < 0.5


def test_a_step_log_counts_the_steps_a_config_without_train_size_leaves_unknown():
    # The same model at chance for 12 epochs, its config naming no train_size (a Keras or
    # Lightning user rarely logs it). Its step log numbers 3 optimizer steps an epoch, every
    # step logged or one in three: 36 steps in all, too few to say the rate was too low, as
    # when the config says so. Logging 50 an epoch, the same curves are stuck after 600.
    train, val, _ = ten_classes_at_chance()
    train, val = train[:12], val[:12]
    sgd = {"optimizer": "sgd", "learning_rate": 3e-3, "batch_size": 32, "num_classes": 10}

    def logged(per_epoch: int, every: int) -> History:
        run = history(train, val, config=sgd)
        step = np.arange(1, 12 * per_epoch + 1, dtype=np.int64)[::every]
        series = {
            "epoch": Series.full(step / per_epoch),
            "train_loss": Series.full(np.full(len(step), float(train[0]))),
        }
        return replace(run, step=step, step_series=series)

    for every in (1, 3):
        few = assess(logged(3, every))
        found = present(few.symptoms)
        assert few.symptoms["few_steps_taken"].value == pytest.approx(36, abs=4)
        assert {"few_steps_taken", "train_stuck"} <= found
        assert not found & {"stuck_after_enough_steps", "at_chance_after_enough_steps"}
    many = assess(logged(50, 10))
    assert many.symptoms["few_steps_taken"].value == pytest.approx(600, rel=0.05)
    assert "stuck_after_enough_steps" in present(many.symptoms)
    # A log of under one epoch does not count them: its steps per epoch are a guess.
    short = history(train, val, config=sgd)
    short = replace(
        short,
        step=np.arange(1, 3, dtype=np.int64),
        step_series={
            "epoch": Series.full(np.array([0.3, 0.6])),
            "train_loss": Series.full(np.ones(2)),
        },
    )
    assert "few_steps_taken" not in assess(short).symptoms


def test_a_plateau_after_a_few_dozen_steps_is_no_evidence_of_a_model_too_small():
    # SGD at its usual rate, ten classes: the training loss settles at 1.5 (chance is 2.3)
    # within 20 epochs. Of 2 batches each (40 steps), the model may only lack steps, so
    # underfitting stays a candidate; of 100 batches (2000 steps), the plateau is the model's.
    e = np.arange(1, 21, dtype=float)
    train = 1.5 + 0.6 * np.exp(-e / 2)
    config = {"optimizer": "sgd", "learning_rate": 1e-2, "batch_size": 32, "num_classes": 10}
    few = assess(history(train, train + 0.02, config={**config, "train_size": 64}))
    assert {"few_steps_taken", "high_plateau"} <= present(few.symptoms)
    assert few.scores["underfitting"] < 0.5
    many = assess(history(train, train + 0.02, config={**config, "train_size": 3200}))
    assert "high_plateau_after_enough_steps" in present(many.symptoms)
    assert many.scores["underfitting"] >= 0.5


def test_a_loss_creeping_at_ten_times_the_usual_rate_is_no_rate_too_low():
    # A regression net that never learned (a constant prediction scores 1.0 on standardized
    # targets): its training loss creeps from 1.05 to 1.0 over 60 epochs. At a tenth of SGD's
    # usual rate that creep is steps too small; at fifteen times it, steps are not too small,
    # whatever holds the model back.
    rng = np.random.default_rng(5)
    e = np.arange(1, 61, dtype=float)
    train = 1.05 - 0.05 * e / 60 + rng.normal(0, 0.004, 60)
    val = 1.0 + np.abs(rng.normal(0, 0.02, 60))

    def run(lr: float):
        config = {"optimizer": "sgd", "learning_rate": lr, "loss": "mse", "batch_size": 16}
        h = replace(history(train, val, config=config), task="regression")
        return assess(h)

    fast = run(0.15)
    assert "lr_above_usual" in present(fast.symptoms)
    assert "lr_too_low" not in fast.scores
    slow = run(0.001)
    assert "lr_above_usual" not in present(slow.symptoms)
    assert slow.scores["lr_too_low"] >= 0.5


def test_overshooting_at_a_rate_thirty_times_the_usual_one_is_a_learning_rate_too_high():
    # Adam at 0.05 (its usual rate is 1e-3): the training loss alternates up and down around
    # a slow fall, as overshooting steps make it. The same curve at the usual rate is no such
    # evidence, and a smooth, healthy run at 0.05 shows nothing overshooting produces: the rate
    # keeps it a candidate, never a claim.
    rng = np.random.default_rng(3)
    e = np.arange(1, 31, dtype=float)
    smooth = 0.4 + 0.8 * np.exp(-e / 5)
    jumpy = smooth * (1 + 0.2 * (-1) ** e + rng.normal(0, 0.02, 30))
    high = {"optimizer": "adam", "learning_rate": 0.05}
    result = diagnose(history(jumpy, jumpy + 0.05, config=high))
    assert "unstable_training" in {s.id for s in result.symptoms if s.present}
    assert result.causes[0].id == "lr_too_high" and result.causes[0].confidence >= 0.9
    usual = diagnose(history(jumpy, jumpy + 0.05, config={**high, "learning_rate": 1e-3}))
    assert not [c for c in usual.causes if c.id == "lr_too_high" and c.confidence >= 0.9]
    healthy = diagnose(history(smooth, smooth + 0.05, config=high))
    assert all(c.confidence < 0.5 for c in healthy.causes if c.id == "lr_too_high")


def test_a_validation_loss_that_only_jitters_at_a_far_higher_rate_keeps_the_rate_a_candidate():
    # SGD with momentum at 0.3 (thirty times its usual 0.01): the training loss falls smoothly
    # to a low floor, validation follows it with a jitter of 10%. Steps that long may have
    # settled it higher than a usual rate would, or not (one-cycle and clipping make such rates
    # train well): the jitter alone confirms nothing. A training loss that jumps does.
    rng = np.random.default_rng(11)
    e = np.arange(1, 41, dtype=float)
    train = 0.2 + 1.4 * np.exp(-e / 6)
    val = (0.25 + 1.3 * np.exp(-e / 6)) * (1 + rng.normal(0, 0.1, 40))
    config = {"optimizer": "sgd", "learning_rate": 0.3, "batch_size": 32}
    jitter = assess(history(train, val, config=config))
    found = present(jitter.symptoms)
    assert "noisy_at_a_far_higher_rate" in found
    assert "overshoots_at_a_far_higher_rate" not in found
    assert "lr_too_high" in jitter.scores
    jumped = train.copy()
    jumped[[12, 20, 28]] *= 3
    constant = {**config, "lr_schedule": "constant"}
    found = present(assess(history(jumped, val, config=constant)).symptoms)
    assert "overshoots_at_a_far_higher_rate" in found


def test_swings_a_falling_rate_took_the_loss_below_are_no_rate_too_high():
    # SGD at forty times its usual rate under a one-cycle schedule: the training loss triples
    # at three epochs of the peak, then the falling rate takes it lower than ever by the last
    # epoch. The swings were not what the run ended on: the rate stays a candidate (a tenth of
    # it helped none of three such throwaway runs). Held constant, or still swinging at the end,
    # the same swings confirm it.
    e = np.arange(1, 31, dtype=float)
    train = 0.2 + 1.4 * np.exp(-e / 6)
    train[[8, 11, 14]] *= 3
    val = 0.25 + 1.3 * np.exp(-e / 6)
    config = {"optimizer": "sgd", "learning_rate": 0.4, "batch_size": 32}
    onecycle = assess(history(train, val, config={**config, "lr_schedule": "onecycle"}))
    found = present(onecycle.symptoms)
    assert {"unstable_training", "train_ends_at_its_lowest", "settled_as_the_rate_fell"} <= found
    assert "overshoots_at_a_far_higher_rate" not in found
    assert 0 < onecycle.scores["lr_too_high"] < 0.5
    constant = assess(history(train, val, config={**config, "lr_schedule": "constant"}))
    assert "overshoots_at_a_far_higher_rate" in present(constant.symptoms)
    assert constant.scores["lr_too_high"] >= 0.5
    swinging = train.copy()
    swinging[-1] *= 3
    late = assess(history(swinging, val, config={**config, "lr_schedule": "onecycle"}))
    assert "overshoots_at_a_far_higher_rate" in present(late.symptoms)
    assert late.scores["lr_too_high"] >= 0.5


def test_a_tenth_of_a_high_rate_that_could_not_move_the_weights_cannot_be_what_helps():
    # A ten-class model at chance after 80 epochs. With 40 training samples (25 steps in all)
    # at AdamW's 0.03, thirty times its usual rate, the steps add up to 0.75: a tenth of the
    # rate moves each weight by under 0.1 and cannot leave the start, so the rerun at a tenth
    # cannot do better and the rate was not too high. With 1000 samples at 0.05 (625 steps,
    # 31 in all), a tenth of the rate can learn, and come down to chance from above it the rate
    # is confirmed.
    train, val, config = ten_classes_at_chance()
    train = np.r_[1.4 * np.log(10), train[1:]]
    short = {**config, "learning_rate": 0.03, "train_size": 40}
    found = present(assess(history(train, val, config=short)).symptoms)
    assert {"lr_far_above_usual", "at_chance", "lower_rate_cannot_help"} <= found
    assert "overshoots_at_a_far_higher_rate" not in found
    assert "lr_too_high" not in assess(history(train, val, config=short)).scores
    # A model that learned in those 25 steps (an easy task) is not judged by it: it left
    # its start, and a tenth of the rate may learn it too without overshooting.
    learned = np.log(10) * np.exp(-np.arange(80) / 10) + 0.05
    found = present(assess(history(learned, learned + 0.1, config=short)).symptoms)
    assert "tiny_step_budget_at_a_tenth_of_the_rate" in found
    assert "lower_rate_cannot_help" not in found
    long = {**config, "learning_rate": 0.05}
    a = assess(history(train, val, config=long))
    assert "lower_rate_cannot_help" not in present(a.symptoms)
    assert "overshoots_at_a_far_higher_rate" in present(a.symptoms)
    assert a.scores["lr_too_high"] >= 0.9


def test_a_gap_within_the_sampling_error_of_a_small_validation_set_is_that_set_s_noise():
    # Validation ends 0.06 above training at a loss of 0.35: with 30 validation samples that
    # loss is known to about +-0.13, so the gap is noise of the set. With 3,000 samples it is
    # known to +-0.013 and the same gap is real.
    rng = np.random.default_rng(4)
    e = np.arange(1, 26, dtype=float)
    train = 0.3 + 0.9 * np.exp(-e / 4)
    val = train + 0.06 + rng.normal(0, 0.01, 25)

    def diagnosis(size: int):
        return diagnose(history(train, val, config={"val_size": size}))

    small = diagnosis(30)
    assert "gap_within_sampling_error" in {s.id for s in small.symptoms if s.present}
    assert small.causes[0].id == "small_validation_noise" and small.causes[0].confidence >= 0.9
    large = diagnosis(3000)
    assert "gap_within_sampling_error" not in {s.id for s in large.symptoms if s.present}
    assert "small_validation_noise" not in [c.id for c in large.causes[:1]]


def test_a_rise_within_the_sampling_error_of_a_small_validation_set_confirms_no_overfitting():
    # Training settles on the floor label smoothing sets; validation then rises steadily by 0.025
    # (7% of its loss) over 80 epochs. Measured on 6,000 samples that rise is the model's; on 60,
    # whose mean loss is known to about +-0.09, it is those samples growing a little worse and
    # says nothing of data like them: overfitting stays a candidate, not a confirmed cause.
    rng = np.random.default_rng(7)
    e = np.arange(1, 121, dtype=float)
    train = 0.335 + 0.35 * np.exp(-e / 12) + rng.normal(0, 0.003, 120)
    rise = 0.025 * np.clip((e - 40) / 80, 0, 1)
    val = 0.357 + 0.3 * np.exp(-e / 10) + rise + rng.normal(0, 0.002, 120)

    def diagnosis(size: int):
        config = {"val_size": size, "num_classes": 2, "label_smoothing": 0.2}
        result = diagnose(history(train, val, config=config))
        return {c.id: c.confidence for c in result.causes}, present_ids(result)

    small, small_symptoms = diagnosis(60)
    assert "val_rises_after_min" in small_symptoms
    assert "val_rise_within_sampling_error" in small_symptoms
    assert "overfitting_signature" not in small_symptoms
    assert small.get("overfitting", 0.0) < 0.5
    large, large_symptoms = diagnosis(6000)
    assert "overfitting_signature" in large_symptoms and large["overfitting"] >= 0.9


def test_validation_rising_while_training_holds_level_is_no_memorizing():
    # Validation bottoms at epoch 10 and climbs by 0.6 over the next 30 epochs. A model that
    # memorizes its set drives its training loss toward zero as that happens: overfitting,
    # confirmed. One whose training loss holds level (down 11% after validation's minimum) is not
    # memorizing; what scores validation ever worse is something else (inputs unlike training's,
    # overshooting steps), and overfitting stays a candidate.
    rng = np.random.default_rng(3)
    e = np.arange(1, 41, dtype=float)
    val = 0.6 + 0.5 * np.exp(-e / 3) + 0.02 * np.clip(e - 10, 0, None) + rng.normal(0, 0.005, 40)

    def diagnosis(train):
        result = diagnose(history(train + rng.normal(0, 0.003, 40), val, config={"num_classes": 4}))
        return {c.id: c.confidence for c in result.causes}, present_ids(result)

    level, level_symptoms = diagnosis(0.5 + 0.5 * np.exp(-e / 3) - 0.001 * e)
    assert "val_rises_after_min" in level_symptoms
    assert "val_rise_outpaces_memorizing" in level_symptoms
    assert "overfitting_signature" not in level_symptoms and level["overfitting"] < 0.5
    memorizing, memorizing_symptoms = diagnosis(0.03 + 1.0 * np.exp(-e / 7))
    assert "val_rise_outpaces_memorizing" not in memorizing_symptoms
    assert "overfitting_signature" in memorizing_symptoms and memorizing["overfitting"] >= 0.9


def present_ids(result) -> set[str]:
    return {s.id for s in result.symptoms if s.present}


def test_a_plateau_is_high_against_the_first_reported_loss_not_a_later_one():
    # A segmentation loss halves from its first epoch (0.056) and flattens at 0.026: it learned
    # more than half of what it started with. One that ends at 0.04 learned too little.
    e = np.arange(1, 25, dtype=float)
    learned = 0.0258 + 0.03 * np.exp(-(e - 1) / 1.5)
    stuck = 0.04 + 0.016 * np.exp(-(e - 1) / 1.5)

    def high(train) -> bool:
        return "high_plateau" in present(assess(history(train, train * 1.3)).symptoms)

    assert not high(learned)
    assert high(stuck)


def test_a_classifier_sitting_at_chance_before_it_learns_had_too_small_steps():
    # Four classes: the loss sits at ln 4 for 9 of 25 epochs (a one-cycle schedule starting at
    # a small rate), then falls: ten times the rate leaves the start sooner. The same descent
    # from its first epoch, a stall shorter than a fifth of the run, or a loss that never
    # falls (that one predicts nothing: `at_chance`) is no such evidence.
    e = np.arange(25, dtype=float)
    chance = np.log(4)
    learned = 0.4 + (chance - 0.4) * np.exp(-np.clip(e - 8, 0, None) / 3)
    config = {"num_classes": 4}
    result = diagnose(history(learned, learned + 0.02, config=config))
    stalled = next(s for s in result.symptoms if s.id == "stalled_at_chance")
    assert stalled.present and stalled.value == 9 / 25
    assert "first 9 of 25 epochs" in stalled.detail
    assert result.causes[0].id == "lr_too_low" and result.causes[0].confidence >= 0.9
    at_once = 0.4 + (chance - 0.4) * np.exp(-e / 3)
    short = 0.4 + (chance - 0.4) * np.exp(-np.clip(e - 3, 0, None) / 3)
    for curve in (at_once, short):
        found = present(assess(history(curve, curve + 0.02, config=config)).symptoms)
        assert "stalled_at_chance" not in found
    unknown = present(assess(history(learned, learned + 0.02)).symptoms)
    assert "stalled_at_chance" not in unknown  # without num_classes chance is not known
    flat = np.full(25, chance)
    assert "stalled_at_chance" not in present(assess(history(flat, flat, config=config)).symptoms)


def with_accuracy(h: History, accuracy, train=None) -> History:
    series = {**h.epoch_series, "val_accuracy": Series.full(np.asarray(accuracy, float))}
    if train is not None:
        series["train_accuracy"] = Series.full(np.asarray(train, float))
    return History(h.epoch, series, h.step, h.step_series, h.config, task=h.task)


def test_a_validation_loss_creeping_up_by_a_hair_does_not_disagree_with_its_accuracy():
    # A small set classified perfectly from epoch 20 on: validation loss settles at 0.0179 and
    # creeps up by 1e-5 per ten epochs, a significant trend worth 0.1% of the loss level, while
    # accuracy holds at 1.0. Loss and accuracy tell the same story.
    epochs = np.arange(1, 61, dtype=float)
    train = 0.006 + 1.1 * np.exp(-epochs / 3)
    val = 0.0178 + 0.9 * np.exp(-epochs / 3) + 1e-6 * epochs
    accuracy = np.minimum(1.0, 0.6 + 0.02 * epochs)
    flat = assess(with_accuracy(history(train, val), accuracy))
    assert "accuracy_disagrees" not in present(flat.symptoms)
    assert "accuracy_loss_divergence" not in flat.scores
    # Rising by a fifth of its level over the second half while accuracy holds, it does.
    rising = val + np.where(epochs > 30, 0.004 * (epochs - 30) / 30, 0.0)
    rises = assess(with_accuracy(history(train, rising), accuracy))
    assert "accuracy_disagrees" in present(rises.symptoms)


def test_a_gap_of_a_hundredfold_a_tiny_loss_is_no_mismatch_of_the_inputs():
    # Both splits learned: validation falls from 0.37 to 0.0018 and training to 1e-5, a
    # hundredfold ratio that is 0.2% of where the run started. Inputs preprocessed differently
    # would keep validation high; this gap is nothing a problem cause needs explaining.
    epochs = np.arange(1, 101, dtype=float)
    train = 1e-5 + 0.97 * np.exp(-epochs / 2)
    val = 0.0018 + 0.37 * np.exp(-epochs / 2)
    tiny = assess(history(train, val))
    symptoms = present(tiny.symptoms)
    assert "val_above_train" in symptoms and "gap_material" not in symptoms
    assert "preprocessing_mismatch" not in compatible(tiny.symptoms)
    # Validation stuck at a tenth of the start while training learns is a gap that matters.
    stuck = assess(history(train, 0.1 + 0.27 * np.exp(-epochs / 2)))
    assert {"val_above_train", "gap_material"} <= present(stuck.symptoms)
    assert "preprocessing_mismatch" in compatible(stuck.symptoms)


PEERS = Path(__file__).resolve().parent / "fixtures" / "peers" / "howreal"


@pytest.mark.parametrize("case", ["hr10", "hr11"])
def test_a_small_validation_set_is_read_off_the_lattice_its_accuracies_sit_on(case):
    # Real Keras stdout (Iris, 75 validation samples, accuracies printed with four decimals):
    # with the stated size removed, the accuracies still say it, and so does the sampling error.
    document = json.loads((PEERS / f"{case}.json").read_text())
    stated = document["config"].pop("val_size")
    h = history_from_document({"name": case, **document})
    curves = prepare(h)
    assert accuracy_lattice(curves.val_acc) == stated == 75
    assert gaps.validation_size(curves) == stated
    assert gaps.sampling_se(curves) is not None


def test_a_re_evaluation_counts_the_validation_set_a_config_left_unsized():
    # A suite run on 25 validation samples, sent without `val_size`: its accuracies sit on no
    # lattice, so the history alone cannot tell the set is small. A re-evaluation that scored
    # the whole validation set counted it: the gap is within that set's sampling error, and the
    # small set is the cause. One that scored a subsample counted only the subsample.
    run = SUITE_BY_NAME["small_validation_noise-2"]
    unsized = {k: v for k, v in run.history.config.items() if k != "val_size"}
    curves_only = replace(run.history, config=unsized, probe=None)
    reevaluated = replace(curves_only, probe=run.history.probe)
    assert "small_validation_set" not in present(assess(curves_only).symptoms)
    counted = assess(reevaluated)
    assert {"small_validation_set", "gap_within_sampling_error"} <= present(counted.symptoms)
    assert counted.scores["small_validation_noise"] >= CONFIRMED
    assert gaps.validation_size(prepare(reevaluated)) == run.history.probe.n_val == 25
    sampled = replace(curves_only, probe=probe_like(run.name, subsampled=True))
    assert gaps.validation_size(prepare(sampled)) is None


def test_accuracies_printed_with_two_decimals_say_nothing_of_the_set():
    rng = np.random.default_rng(4)
    accuracy = np.sort(rng.uniform(0.5, 0.95, 20))
    assert accuracy_lattice(np.round(accuracy, 2)) is None  # the printing's lattice
    assert accuracy_lattice(accuracy) is None  # a large set: no lattice under 200
    assert accuracy_lattice(np.round(accuracy * 25) / 25) == 25
    assert accuracy_lattice(np.round(accuracy * 25)[:3] / 25) is None  # too few values agree


def test_a_small_set_shows_its_size_in_the_few_accuracies_it_can_take():
    # 36 validation samples: over 120 epochs a model that settles quickly reports seven distinct
    # accuracies, all multiples of 1/36. Five unrelated values sit on one lattice under 200 about
    # once in ten million; four agreeing values are not enough to read a size from.
    shown = np.array([24, 27, 30, 31, 33, 34, 35, 35, 35, 35]) / 36
    assert accuracy_lattice(shown) == 36
    assert accuracy_lattice(np.array([24, 27, 30, 31, 31]) / 36) is None
    rng = np.random.default_rng(8)
    assert accuracy_lattice(np.round(rng.uniform(0.5, 0.95, 7), 4)) is None


def test_a_gap_within_the_error_of_a_set_its_accuracies_show_is_small_yet_noise():
    # 25 validation samples, stated nowhere: validation ends 0.1 below training, which such a
    # set measures to about ±0.28. The accuracies (multiples of 1/25) tell the size.
    rng = np.random.default_rng(5)
    epochs = np.arange(1, 26, dtype=float)
    train = 0.8 + 0.45 * np.exp(-epochs / 6)
    val = train - 0.1 + rng.normal(0, 0.02, 25)
    accuracy = np.round(np.clip(0.55 + 0.3 * (1 - np.exp(-epochs / 6)), 0, 1) * 25) / 25
    accuracy += rng.integers(-2, 3, 25) / 25
    small = assess(with_accuracy(history(train, val), accuracy))
    assert "gap_within_sampling_error" in present(small.symptoms)
    assert small.scores["small_validation_noise"] >= 0.9
    # The same curves with accuracies of a large set (no lattice) say nothing of its size.
    large = assess(with_accuracy(history(train, val), accuracy + rng.uniform(-0.003, 0.003, 25)))
    assert "gap_within_sampling_error" not in {s for s in large.symptoms}


def test_a_small_set_holding_none_of_the_errors_is_below_training_by_chance():
    # A classifier wrong on 5% of its training samples, validated on 40: such a set holds no
    # error one time in eight, and then its cross entropy (carried by the errors) sits at half
    # of training's, far outside mean / sqrt(40). The binomial count says it is the set's luck:
    # its noise, which accounts for the gap, so noisy training labels are not claimed on it.
    # A training error rate of 30% makes a faultless set of 40 a one-in-a-million draw.
    e = np.arange(1, 31, dtype=float)
    train = 0.135 + 0.55 * np.exp(-e / 6)
    val = 0.058 + 0.6 * np.exp(-e / 6)

    def run(train_accuracy: float):
        h = history(train, val, config={"val_size": 40, "optimizer": "adamw"})
        return assess(with_accuracy(h, np.ones(30), train=np.full(30, train_accuracy)))

    lucky = run(0.947)
    found = present(lucky.symptoms)
    assert {"val_below_beyond_lag", "gap_within_sampling_error"} <= found
    assert "0 errors in 40" in lucky.symptoms["gap_within_sampling_error"].detail
    assert lucky.scores["small_validation_noise"] >= 0.9
    assert lucky.scores.get("label_noise_train", 0.0) < 0.5
    noisy = run(0.7)
    assert "gap_within_sampling_error" not in present(noisy.symptoms)
    unlikely = noisy.symptoms["gap_within_sampling_error"].detail
    assert "are not what a set that size holds" in unlikely
    assert noisy.scores.get("small_validation_noise", 0.0) < 0.5


def test_a_validation_loss_climbing_back_from_its_minimum_rules_out_an_underfit_model():
    # Four classes on a hard task: training ends at 0.75, over half of chance (a high plateau),
    # but validation bottoms out at epoch 20 and climbs back by 0.1 while training keeps
    # falling: the model fits its training set past what generalizes, which a model too small
    # to fit it cannot do. The same plateau with validation settling beside it stays possible.
    e = np.arange(1, 41, dtype=float)
    train = 0.75 + 0.64 * np.exp(-e / 6)
    settled = train + 0.03
    climbing = settled + 0.1 * np.clip((e - 20) / 20, 0, None)
    config = {"num_classes": 4, "optimizer": "adam", "learning_rate": 1e-3}
    overfit = assess(history(train, climbing, config=config))
    assert {"high_plateau", "val_rises_after_min"} <= present(overfit.symptoms)
    assert "underfitting" not in overfit.scores
    plateau = assess(history(train, settled, config=config))
    assert "underfitting" in compatible(plateau.symptoms)


def test_validation_as_accurate_as_training_rules_out_a_mismatch_of_the_inputs():
    # A real LeNet on MNIST (Adadelta at rate 6): validation loss stalls and ends on a spike
    # above training, but validation accuracy stays within a point of training accuracy. Inputs
    # preprocessed differently would cost validation accuracy.
    document = json.loads((PEERS.parent / "deepfd-cov" / "dc04.json").read_text())
    real = assess(history_from_document(document))
    assert {"val_above_train", "accuracies_agree"} <= present(real.symptoms)
    assert "preprocessing_mismatch" not in real.scores
    # The same losses with validation accuracy twenty points below training accuracy.
    for row in document["epochs"]:
        row["val_accuracy"] = row["train_accuracy"] - 0.2
    shifted = assess(history_from_document(document))
    assert "accuracies_agree" not in present(shifted.symptoms)
    assert "preprocessing_mismatch" in compatible(shifted.symptoms)


def test_a_training_loss_jittering_like_one_batch_beside_a_smooth_validation_is_not_its_mean():
    # 100 batches an epoch, yet the reported training loss jumps by half its level from epoch
    # to epoch while validation, measured at one instant, is smooth: only the last batch was
    # reported. No fitted opinion is needed for that.
    rng = np.random.default_rng(6)
    epochs = np.arange(1, 26, dtype=float)
    val = 0.25 + 0.55 * np.exp(-epochs / 4)
    config = {"train_size": 1600, "batch_size": 16}
    last_batch = (0.2 + 0.6 * np.exp(-epochs / 4)) * np.exp(rng.normal(0, 0.5, 25))
    result = assess(history(last_batch, val, config=config))
    assert "train_jitters_like_one_batch" in present(result.symptoms)
    # Confirmed even when a fitted model (one that never saw this mechanism) doubts it.
    doubt = confidences({"loss_computation_mismatch": 0.01}, result.symptoms, 25, {})
    assert doubt["loss_computation_mismatch"] >= 0.9
    # Validation jittering too (a small or hard set), at a third of training's jitter: an
    # epoch mean of 100 batches is smoother than one instant's evaluation, never three times
    # rougher.
    rough = assess(history(last_batch, val * np.exp(rng.normal(0, 0.15, 25)), config=config))
    assert "train_jitters_like_one_batch" in present(rough.symptoms)
    # Steps that overshoot move validation as much as training: no such reading.
    both = np.exp(rng.normal(0, 0.5, 25))
    overshoot = assess(history(last_batch, val * both, config=config))
    assert "train_jitters_like_one_batch" not in present(overshoot.symptoms)


def test_a_memorized_loss_jittering_by_its_whole_level_is_not_one_batch():
    # A residual CNN that memorized its set: from 0.99 its training loss falls to 1e-4-3e-3 and
    # jitters by its whole level there, while validation settles on 0.0015. Jitter of a few
    # thousandths next to a start of 0.99 is rounding, not a batch: no reading. The same
    # relative jitter around 0.3 is one batch reported.
    rng = np.random.default_rng(12)
    epochs = np.arange(1, 41, dtype=float)
    config = {"train_size": 1600, "batch_size": 16}
    memorized = 0.99 * np.exp(-epochs) + 0.001 * np.exp(rng.normal(0, 1.0, 40))
    memorized[0] = 0.99
    val = 0.0015 + 0.5 * np.exp(-epochs)
    tiny = assess(history(memorized, val * (1 + rng.normal(0, 0.01, 40)), config=config))
    assert "train_jitters_like_one_batch" not in present(tiny.symptoms)
    assert "loss_scale_mismatch" not in present(tiny.symptoms)
    material = 0.3 * np.exp(rng.normal(0, 1.0, 40))
    material[0] = 0.99
    batch = assess(history(material, 0.3 + 0.5 * np.exp(-epochs), config=config))
    assert "train_jitters_like_one_batch" in present(batch.symptoms)


def test_a_ratio_that_drifts_where_the_curves_moved_is_no_constant_scale():
    # A regression validated on its easiest samples: both losses sit flat for nine epochs,
    # training at 4.2 times validation, then halve in three as the ratio drifts to 4.8. Nine
    # flat epochs hold the ratio's standard deviation under 0.05; its range over the run says
    # it moved with the curves. Held at 4.2 to the end, it is a scale on one side.
    val = np.array(
        [0.295, 0.294, 0.292, 0.29, 0.288, 0.284, 0.279, 0.271, 0.259, 0.238, 0.194, 0.133]
    )
    drifting = val * np.linspace(4.2, 4.2, 12)
    drifting[-3:] = val[-3:] * np.array([4.5, 4.78, 4.68])
    moved = assess(history(drifting, val))
    assert "loss_scale_mismatch" not in present(moved.symptoms)
    constant = assess(history(val * 4.2, val))
    assert "loss_scale_mismatch" in present(constant.symptoms)


def test_validation_falling_past_the_floor_at_the_end_is_unfinished_training():
    # 40 epochs of a loss falling in a straight line to the end: the last ten take validation
    # from 0.5 to 0.3, a fifth of where it began. Continuing pays by any counterfactual
    # measure, however unsure a fitted model is.
    rng = np.random.default_rng(9)
    epochs = np.arange(1, 41, dtype=float)
    val = (1.1 - 0.02 * epochs) * (1 + rng.normal(0, 0.005, 40))
    train = (1.05 - 0.02 * epochs) * (1 + rng.normal(0, 0.005, 40))
    unfinished = assess(history(train, val))
    falls = unfinished.symptoms["val_falls_past_the_floor"]
    assert falls.present and falls.value is not None and falls.value >= 0.1
    doubt = confidences({"not_converged": 0.2}, unfinished.symptoms, 40, {})
    assert doubt["not_converged"] >= 0.9
    # Bending, but its last quarter still takes 7% of where validation began: continuing half
    # the run again, as the counterfactual reruns do, gains the 5% they ask at half that pace.
    slowing = 0.2 + 0.9 * np.exp(-epochs / 25)
    slow = assess(history(slowing * 0.97, slowing * (1 + rng.normal(0, 0.002, 40))))
    falls = slow.symptoms["val_falls_past_the_floor"]
    assert falls.present and falls.value is not None and 0.05 <= falls.value < 0.1
    assert confidences({"not_converged": 0.2}, slow.symptoms, 40, {})["not_converged"] >= 0.9
    # The same validation beside a training loss that levelled off long ago: weights that no
    # longer move cannot improve validation by continuing.
    level = 0.2 + 0.9 * np.exp(-epochs / 4)
    still = assess(history(level, slowing * (1 + rng.normal(0, 0.002, 40))))
    assert not still.symptoms["train_still_improving"].present
    assert not still.symptoms["val_falls_past_the_floor"].present
    # The same run converging: its last quarter falls a few percent of its first value, still
    # a trend but no confirmation (the models weigh it).
    bent = 0.3 + 0.8 * np.exp(-epochs / 5)
    settled = assess(history(bent * 0.95, bent * (1 + rng.normal(0, 0.002, 40))))
    assert not settled.symptoms["val_falls_past_the_floor"].present


def test_a_noisy_small_validation_set_drifting_down_by_chance_is_not_unfinished_training():
    # Both curves converged by epoch 40 of 60; validation is measured on 40 samples (jitter a
    # third of the level), and in this draw its last quarter happens to trend down
    # significantly, by a fifth of its first value: less than its noise, beside a training loss
    # that no longer falls.
    epochs = np.arange(1, 61, dtype=float)
    curve = 0.3 + 0.8 * np.exp(-epochs / 10)
    rng = np.random.default_rng(88)
    train, val = curve + rng.normal(0, 0.01, 60), curve + rng.normal(0, 0.12, 60)
    config = {"num_classes": 3, "val_size": 40}
    a = assess(history(train, val, config=config))
    drift = a.symptoms["val_still_improving"]
    assert drift.present and a.symptoms["val_falls_past_the_floor"].value >= 0.1  # the draw
    assert not a.symptoms["train_still_improving"].present
    assert not {"val_falls_past_the_floor", "still_improving"} & present(a.symptoms)
    assert "not_converged" not in a.scores


def test_validation_every_tenth_epoch_reads_like_validation_every_epoch():
    # An overfit over 300 epochs (validation turns up at epoch 80 while training falls to
    # 0.02). Evaluated every tenth epoch, the thirty validation losses must not be measured
    # against a level set by three hundred training losses near zero.
    rng = np.random.default_rng(1)
    epochs = np.arange(1, 301, dtype=float)
    train = 0.02 + 2 * np.exp(-epochs / 30) + rng.normal(0, 0.005, 300)
    val = 0.6 + 1.6 * np.exp(-epochs / 30) + 0.002 * np.maximum(0, epochs - 80)
    val = val + rng.normal(0, 0.01, 300)
    sparse = np.where(epochs % 10 == 0, val, np.nan)
    every = History(
        epochs,
        {"train_loss": Series.full(train), "val_loss": Series(sparse, epochs % 10 == 0)},
        config={"num_classes": 10},
        task="classification",
    )
    dense, tenth = assess(history(train, val, config={"num_classes": 10})), assess(every)
    for a in (dense, tenth):
        assert max(a.scores, key=a.scores.__getitem__) == "overfitting"
        assert a.scores.get("preprocessing_mismatch", 0.0) < 0.5
    ratio = tenth.symptoms["val_above_train"].value / dense.symptoms["val_above_train"].value
    assert 0.5 < ratio < 2


def test_early_stopping_the_config_declares_firing_on_noise_is_premature_stopping():
    # Validation still falling 3% of its level an epoch when it wobbles up by less than its own
    # noise; the config's early stopping (patience 2, 60 epochs planned) ends the run two
    # evaluations later, at epoch 20. That is premature stopping as the catalog defines it,
    # however unsure a fitted model is.
    rng = np.random.default_rng(10)
    epochs = np.arange(1, 21, dtype=float)
    val = (0.3 + 0.9 * np.exp(-epochs / 12)) * (1 + rng.normal(0, 0.004, 20))
    val[-2:] = val[-3] + np.array([0.004, 0.002])
    train = 0.28 + 0.95 * np.exp(-epochs / 11)
    config = {"early_stopping_patience": 2, "epochs": 60}
    stopped = assess(history(train, val, config=config))
    assert {"stopped_by_patience", "stopped_while_falling", "stopped_on_noise"} <= present(
        stopped.symptoms
    )
    doubt = confidences({"premature_early_stopping": 0.2}, stopped.symptoms, 20, {})
    assert doubt["premature_early_stopping"] >= 0.9
    # The report says which cause the symptom is, and leaves little of it unexplained.
    report = diagnose(history(train, val, config=config))
    symptom = next(s for s in report.symptoms if s.id == "stopped_on_noise")
    assert symptom.explained_by == ("premature_early_stopping",)
    assert symptom.unexplained is not None and symptom.unexplained <= 0.1
    # The config's stop alone is a fact no cause in the catalog produces: nothing left open.
    fact = next(s for s in report.symptoms if s.id == "stopped_by_patience")
    assert fact.present and fact.explained_by == () and fact.unexplained is None
    # The same curves from a run that trained all its planned epochs: nothing stopped it.
    planned = assess(history(train, val, config={**config, "epochs": 20}))
    assert "stopped_on_noise" not in present(planned.symptoms)
    # Without the config's word the curves alone confirm nothing.
    assert "stopped_on_noise" not in present(assess(history(train, val)).symptoms)
    # Stopped at epoch 20 of 24 planned: the stop took at most a sixth of the plan, where
    # schedules anneal the rate and little is left to gain. Not confirmed, not claimed: listed.
    late = assess(history(train, val, config={**config, "epochs": 24}))
    assert "ran_most_of_the_plan" in present(late.symptoms)
    assert "stopped_on_noise" not in present(late.symptoms)
    late_doubt = confidences({"premature_early_stopping": 0.8}, late.symptoms, 20, {})
    assert late_doubt["premature_early_stopping"] == UNCLAIMED


def test_early_stopping_that_fired_on_a_few_evaluations_of_a_long_plan_cut_the_run_short():
    # Patience 1 and 40 epochs planned: validation falls 0.58 -> 0.47 in three epochs, ticks up
    # by 1% and the run ends at epoch 4. Four validation losses cannot tell that bump from the
    # trend (the early-stop check needs five), and the plan gave the model ten times as long:
    # early stopping fired too soon. So does a run stopped at chance after 3 of 40 epochs,
    # which had no time to learn. A fifth of the plan or more, or the run's own plan of 6
    # epochs, and the stop is not judged so.
    train = np.array([0.91, 0.73, 0.63, 0.62])
    val = np.array([0.584, 0.545, 0.470, 0.475])
    config = {"early_stopping_patience": 1, "epochs": 40, "loss": "mse"}
    cut = assess(history(train, val, config=config))
    assert {"stopped_before_a_trend", "cut_short_by_patience"} <= present(cut.symptoms)
    assert cut.scores["premature_early_stopping"] >= 0.9
    for planned in (6, 12):
        judged = assess(history(train, val, config={**config, "epochs": planned}))
        assert "cut_short_by_patience" not in present(judged.symptoms)
        assert judged.scores.get("premature_early_stopping", 0.0) < 0.5
    chance = math.log(3)
    at_chance = assess(
        history(
            np.array([1.12, 1.10, 1.096]),
            np.array([1.0917, 1.0998, 1.1008]),
            config={"early_stopping_patience": 2, "epochs": 40, "num_classes": 3},
        )
    )
    assert abs(at_chance.curves.val[-1] / chance - 1) < 0.01
    assert {"at_chance", "cut_short_by_patience"} <= present(at_chance.symptoms)
    assert at_chance.scores["premature_early_stopping"] >= 0.9
    # A model frozen in place (a rate of 1e-11): its training loss unchanged in its fifth digit
    # over the four epochs the stopper allowed. Nothing was cut short.
    frozen = assess(
        history(
            np.full(4, 2.671456) - np.arange(4) * 1e-8,
            np.full(4, 2.6858954),
            config={"early_stopping_patience": 3, "epochs": 90, "num_classes": 10},
        )
    )
    assert "stopped_by_patience" in present(frozen.symptoms)
    assert "cut_short_by_patience" not in present(frozen.symptoms)
    assert frozen.scores.get("premature_early_stopping", 0.0) < 0.5


def test_early_stopping_that_fired_after_a_few_dozen_steps_cut_the_run_short():
    # A two-class transformer at chance, patience 2, 40 epochs planned of 10 batches each:
    # stopped on its fifth validation loss, enough evaluations to tell a bump from a trend, but
    # after 50 optimizer steps, too few to move a model at a usual rate. At chance there says
    # nothing of what the model can learn: the stop cut it short. With 40 batches an epoch
    # (200 steps) the model had its steps, and at chance it is no stop's doing.
    train = np.array([0.74, 0.687, 0.678, 0.682, 0.697])
    val = np.array([0.682, 0.678, 0.662, 0.69, 0.695])
    config = {
        "early_stopping_patience": 2,
        "epochs": 40,
        "num_classes": 2,
        "batch_size": 64,
        "optimizer": "adamw",
        "learning_rate": 3e-3,
    }
    few = assess(history(train, val, config={**config, "train_size": 640}))
    found = present(few.symptoms)
    assert {"at_chance", "stopped_after_few_steps", "cut_short_by_patience"} <= found
    assert "stopped_before_a_trend" not in found
    assert few.scores["premature_early_stopping"] >= 0.9
    enough = assess(history(train, val, config={**config, "train_size": 2560}))
    found = present(enough.symptoms)
    assert "stopped_by_patience" in found and "at_chance" in found
    assert not found & {"stopped_after_few_steps", "cut_short_by_patience"}
    assert "premature_early_stopping" not in enough.scores


def test_validation_jittering_at_a_rate_thirty_times_the_usual_one_may_be_overshooting():
    # Adam at 0.1: the epoch-mean training loss falls smoothly, as a mean over many steps
    # does, while validation, measured at one instant after the last step, jumps by a fifth of
    # its level. The rate is a suspect, listed but not claimed: the jitter is no damage
    # measured (a tenth of such rates helped 4 of 19 throwaway runs whose only sign it was;
    # batch norm on small batches, dropout and augmentation jitter validation at any rate). At
    # the usual rate the same jitter is augmentation, a small set or a detection loss, and no
    # learning rate is suspected.
    rng = np.random.default_rng(7)
    e = np.arange(1, 31, dtype=float)
    train = 0.4 + 0.8 * np.exp(-e / 5)
    val = (0.5 + 0.7 * np.exp(-e / 5)) * np.exp(rng.normal(0, 0.2, 30))
    high = {"optimizer": "adam", "learning_rate": 0.1}
    for rate in (0.1, 0.03):
        fast = assess(history(train, val, config={**high, "learning_rate": rate}))
        symptoms = present(fast.symptoms)
        assert {"noisy_validation", "noisy_at_a_far_higher_rate"} <= symptoms
        assert "unstable_training" not in symptoms
        assert 0 < fast.scores["lr_too_high"] <= UNCLAIMED
    usual = assess(history(train, val, config={**high, "learning_rate": 1e-3}))
    assert "noisy_validation" in present(usual.symptoms)
    assert "lr_too_high" not in compatible(usual.symptoms)


def test_validation_level_with_the_last_steps_of_each_epoch_is_the_lag_measured():
    # Step losses logged: the loss falls within each epoch, so the epoch mean sits above the
    # weights validation sees at the epoch's end, and the last steps' mean is level with it.
    epochs = 12
    position, steps, train = logged_steps(
        epochs, 50, lambda t: 0.06 + 1.2 * np.exp(-t / 1.5), 0.05, 8
    )
    val = 0.065 + 1.2 * np.exp(-np.arange(1, epochs + 1) / 1.5)
    lagged = assess(history(train, val, (position, steps)))
    assert "last_steps_close_gap" in present(lagged.symptoms)
    doubt = confidences({"measurement_lag": 0.2}, lagged.symptoms, epochs, {})
    assert doubt["measurement_lag"] >= 0.9
    # Validation a third below even the last steps: something besides the lag lowers it.
    below = assess(history(train, val * 0.66, (position, steps)))
    assert "last_steps_close_gap" not in present(below.symptoms)


def test_validation_below_even_the_next_epoch_s_training_loss_is_more_than_a_lag():
    # A pure lag: each epoch's reported training loss is the mean over the epoch of a falling
    # curve, validation that curve at the epoch's end (plus a small generalization gap). Where
    # the curve is steepest validation sits well below the epoch mean, but never below the
    # next epoch's mean, which only sees weights at least as good.
    epochs = 30
    e = np.arange(1, epochs + 1, dtype=float)
    _, _, train = logged_steps(epochs, 50, lambda t: 0.05 + 1.2 * np.exp(-t / 3), 0.05, 3)
    val = 0.052 + 1.2 * np.exp(-e / 3)
    lagged = assess(history(train, val))
    assert "val_below_train_early" in present(lagged.symptoms)
    assert "val_below_beyond_lag" not in present(lagged.symptoms)
    pure = diagnose(history(train, val))
    assert pure.causes[0].id == "measurement_lag" and "only part" not in pure.summary
    # Copies of validation samples memorized in training: validation a quarter below the curve.
    leaked = assess(history(train, val * 0.75))
    beyond = leaked.symptoms["val_below_beyond_lag"]
    assert beyond.present and beyond.value is not None and beyond.value >= 0.2
    # The lag is still at work, and the user is told it cannot make the whole gap.
    result = diagnose(history(train, val * 0.75))
    assert "measurement_lag" in [c.id for c in result.causes]
    assert "explains only part of the gap" in result.summary


def test_an_additive_floor_on_training_is_no_loss_computed_differently():
    # Regression targets noisy in training only: the training MSE is the clean error plus the
    # noise's variance, 1.9 here, so it sits 3-9x above validation, a ratio that grows as the
    # model learns. A summed loss (the mean times 32 batches) holds its ratio exactly.
    epochs = np.arange(1, 26)
    clean = 0.2 + 0.6 * np.exp(-epochs / 3)
    floored = assess(history(clean + 1.9, clean))
    assert not floored.symptoms["loss_scale_mismatch"].present
    summed = assess(history(clean * 32, clean))
    assert summed.symptoms["loss_scale_mismatch"].present
    assert "loss_computation_mismatch" in summed.scores
    assert "loss_computation_mismatch" not in floored.scores


def test_a_ratio_that_drifts_as_the_model_learns_is_no_loss_computed_differently():
    # Heavy dropout on a regression net validated on an easier split: training sits 3x above
    # validation at the start and 4.4x at the end, the ratio moving by a tenth in log over the
    # run as the penalty and the split's ease change with the model. A loss scaled on one side
    # (a sum against a mean, a factor of 3.5) holds its ratio to the batches' composition.
    epochs = np.arange(1, 41)
    val = 0.02 + 0.1 * np.exp(-epochs / 5)
    drifting = assess(history(val * np.linspace(3.0, 4.4, 40), val))
    assert not drifting.symptoms["loss_scale_mismatch"].present
    assert "loss_computation_mismatch" not in drifting.scores
    scaled = assess(history(val * 3.5, val))
    assert scaled.symptoms["loss_scale_mismatch"].present


def test_a_training_loss_ten_times_validation_throughout_is_another_quantity():
    # A regression whose training loss is summed over 64-sample batches: 64 times an epoch mean
    # that starts above validation (the half-epoch lag) and ends below it as the model fits its
    # set, so the ratio drifts from 85 to 41. No floor from noisy labels, dropout or an easier
    # split holds training at ten times validation for the whole run; one that drifts from 3
    # to 9.5 times it may be such a floor.
    epochs = np.arange(1, 34)
    val = 0.40 + 0.40 * np.exp(-epochs / 3)
    mean = val * np.linspace(1.34, 0.64, 33)
    summed = assess(history(64 * mean, val))
    assert summed.symptoms["loss_scale_mismatch"].present
    assert "loss_computation_mismatch" in summed.scores
    floor = assess(history(val * np.linspace(3.0, 9.5, 33), val))
    assert not floor.symptoms["loss_scale_mismatch"].present


def test_validation_evaluated_before_training_counts_what_it_recovered():
    # A fine-tune evaluated once before training (5.74, the untrained model) and after each
    # epoch: validation fell to 1.11 in the first epoch, as training did (1.11), then rose
    # while training went on to 0.05. Validation recovered far more than training: no set held
    # back from the start, an overfit. Without the evaluation before training, the same
    # curves from epoch 1 show validation stalling while training learns.
    epochs = np.arange(0, 21, dtype=float)
    train = np.r_[np.nan, 0.05 + 1.06 * np.exp(-(epochs[1:] - 1) / 3)]
    val = np.r_[5.74, 1.11 + 0.08 * (epochs[1:] - 1)]
    series = {"train_loss": Series(train, np.isfinite(train)), "val_loss": Series.full(val)}
    run = assess(History(epochs, series))
    assert "val_stuck" not in present(run.symptoms)
    assert run.scores.get("preprocessing_mismatch", 0.0) < 0.5
    assert max(run.scores, key=run.scores.__getitem__) == "overfitting"
    later = {k: Series.full(v.values[1:]) for k, v in series.items()}
    assert "val_stuck" in present(assess(History(epochs[1:], later)).symptoms)


def test_a_reevaluation_counts_the_training_set_a_config_left_unsized():
    # The same jittering training loss, sent with its batch size (32) and no training size:
    # the re-evaluation was sent 3200 training samples, so an epoch held at least 100
    # batches, and their mean cannot jitter like that. Without the re-evaluation it is not
    # judged (the epoch may hold four batches).
    rng = np.random.default_rng(2)
    e = np.arange(1, 31, dtype=float)
    val = 0.3 + 0.5 * np.exp(-e / 5)
    train = val * np.exp(rng.normal(0, 0.35, 30))
    run = history(train, val, config={"batch_size": 32})
    assert "train_jitters_like_one_batch" not in present(assess(run).symptoms)
    probe = probe_like("loss_computation_mismatch-1", n_train=3200)
    assert "train_jitters_like_one_batch" in present(assess(replace(run, probe=probe)).symptoms)
    small = probe_like("loss_computation_mismatch-1", n_train=120, leakage__chance_sample=None)
    assert "train_jitters_like_one_batch" not in present(assess(replace(run, probe=small)).symptoms)


def test_a_training_loss_that_climbs_back_overshoots_and_is_no_plateau():
    # Training falls from 1.3 to 0.4 in eight epochs, then each step overshoots and the loss
    # climbs back to 1.2, validation with it. The model fitted the training set down to 0.4:
    # ending high is divergence, not a model too small to fit.
    rng = np.random.default_rng(3)
    e = np.arange(1, 21, dtype=float)
    train = np.where(e <= 8, 0.4 + 0.9 * np.exp(-(e - 1) / 2.5), 0.4 * 1.1 ** (e - 8))
    train = train * np.exp(rng.normal(0, 0.01, 20))
    val = train * 1.05
    run = assess(history(train, val))
    found = present(run.symptoms)
    assert "train_climbs_back" in found and "high_plateau" not in found
    assert max(run.scores, key=run.scores.__getitem__) == "lr_too_high"
    assert run.scores["lr_too_high"] >= 0.9
    assert "underfitting" not in run.scores
    # A loss on a noisy floor (one batch's loss logged per epoch) does not climb back.
    floor = 0.4 + 0.9 * np.exp(-(e - 1) / 2.5)
    noisy = floor * np.exp(rng.normal(0, 0.15, 20))
    assert "train_climbs_back" not in present(assess(history(noisy, floor * 1.05)).symptoms)
    # A first epoch that happened to be the lowest, the rest jittering twice as high: the loss
    # moved, so it is not stuck where it started (one epoch is no level it reached).
    jitter = np.r_[0.04, 0.1 * np.exp(rng.normal(0, 0.3, 24))]
    assert "train_stuck" not in present(assess(history(jitter, jitter + 0.01)).symptoms)
    # Nor does one that creeps back by a few percent of a fall to near zero.
    settled = np.r_[1.2 * np.exp(-e[:14] / 2), 0.0012 * 1.15 ** np.arange(1, 7)]
    assert "train_climbs_back" not in present(assess(history(settled, settled + 0.2)).symptoms)


def test_lucky_epochs_of_a_long_noisy_run_are_no_level_it_climbed_back_from():
    # A regression on heavy-tailed targets: after two epochs the epoch-mean training loss sits
    # at 1.0 for 120 epochs, every epoch whose batches drew no outlier dipping to 0.6-0.8.
    # Over that many epochs two such dips fall within three by chance, once or more: a
    # three-epoch median "reached 0.8" and the loss "climbed back" to 1.0. Over sixty epochs
    # or more the level reached is a five-epoch median, and nothing climbed back.
    rng = np.random.default_rng(11)
    e = np.arange(1, 123, dtype=float)
    train = 1.0 + 0.04 * rng.standard_normal(len(e))
    dips = np.array([30, 32, 57, 59, 88, 89, 110])
    train[dips] = rng.uniform(0.6, 0.8, len(dips))
    train[:2] = [1.4, 1.1]
    three = np.median(np.lib.stride_tricks.sliding_window_view(train, 3), axis=1)
    assert three.min() < 0.8  # the reading a three-epoch median gives
    found = present(assess(history(train, train * 0.4)).symptoms)
    assert "train_climbs_back" not in found
    # A level held for eight epochs of such a run, then left for one 40% higher, is a climb.
    held = train.copy()
    held[40:48] = 0.55 + 0.02 * rng.standard_normal(8)
    held[48:] = np.maximum(held[48:], 0.9)
    assert "train_climbs_back" in present(assess(history(held, held * 0.4)).symptoms)


def test_a_training_loss_that_only_got_worse_is_no_underfit_nor_slow_steps():
    # Training loss rising from its first epoch, 4% a step, smooth or jittering by a fifth of
    # itself, logged with and without validation: the steps make it worse. A model too small
    # to fit, or steps too small, lower a loss from where it began; neither can be why, and
    # the rate too high is always among the candidates.
    e = np.arange(30, dtype=float)
    for jitter in (0.0, 0.05, 0.2):
        rng = np.random.default_rng(7)
        train = 0.7 * (1 + 0.04 * e) * np.exp(rng.normal(0, jitter, 30))
        for logged in (history(train, train * 1.05), training_only(train)):
            run = assess(logged)
            assert "train_rises_from_start" in present(run.symptoms)
            assert "underfitting" not in run.scores and "lr_too_low" not in run.scores
            result = diagnose(logged)
            assert "lr_too_high" in [c.id for c in result.causes]
            # Sent with no config, only the habits it may have had are asked about.
            assert "weighed as possible" not in result.summary
    # A loss that fell and settled on a high floor, or never moved, did not get worse.
    floor = 0.7 + 0.3 * np.exp(-e / 3)
    stuck = np.full(30, 0.667) * np.exp(np.random.default_rng(8).normal(0, 0.01, 30))
    for train in (floor, stuck):
        run = assess(training_only(train))
        assert "train_rises_from_start" not in present(run.symptoms)
        assert "underfitting" in run.scores


def test_a_training_loss_that_broke_says_nothing_of_capacity():
    # A regression that went NaN after four epochs, its loss jumping about on the way: where
    # it stood says nothing of whether the model could fit.
    e = np.arange(1, 21, dtype=float)
    train = np.r_[214.5, 79.8, 126.8, 220.6, np.full(16, np.nan)]
    val = np.r_[111.4, 71.3, 103.4, 447.6, np.full(16, np.nan)]
    series = {"train_loss": Series.full(train), "val_loss": Series.full(val)}
    run = assess(History(e, series, config={"loss": "mse"}, task="regression"))
    assert "nonfinite" in present(run.symptoms)
    assert "underfitting" not in run.scores
    assert max(run.scores, key=run.scores.__getitem__) == "numerical_instability"


def test_a_rate_far_above_the_usual_one_is_a_candidate_and_overshooting_confirms_it():
    # AdamW at 75x its usual rate: a curve that settles smoothly may sit above the floor a usual
    # rate reaches, or the rate may be safe with warm-up and clipping; one that swings from
    # epoch to epoch at that rate overshoots.
    rng = np.random.default_rng(4)
    e = np.arange(1, 41, dtype=float)
    smooth = 0.3 + 2.0 * np.exp(-e / 6)
    config = {"optimizer": "adamw", "learning_rate": 0.075, "batch_size": 64}
    calm = assess(history(smooth, smooth * 1.05 + 0.02, config=config))
    assert "lr_far_above_usual" in present(calm.symptoms)
    assert 0.0 < calm.scores["lr_too_high"] < 0.5
    swinging = smooth * np.exp(rng.normal(0, 0.2, 40))
    rough = assess(history(swinging, smooth * 1.05 + 0.02, config=config))
    assert "overshoots_at_a_far_higher_rate" in present(rough.symptoms)
    assert rough.scores["lr_too_high"] >= 0.9
    # At a usual rate the smooth curve gives the learning rate nothing to answer for.
    usual = assess(history(smooth, smooth * 1.05 + 0.02, config={**config, "learning_rate": 1e-3}))
    assert "lr_too_high" not in usual.scores


def test_sgd_s_usual_rate_grows_with_the_batch():
    # 0.4 at a batch of 1024 is the linear scaling rule's 0.1 per 256 samples: usual. At a batch
    # of 64 it is forty times the usual step.
    e = np.arange(1, 31, dtype=float)
    train = 0.3 + 2.0 * np.exp(-e / 6)
    large = assess(
        history(train, train * 1.05, config={"optimizer": "sgd", "lr": 0.4, "batch_size": 1024})
    )
    assert "lr_usual" in present(large.symptoms)
    assert "at a batch of 1024" in large.symptoms["lr_usual"].detail
    small = assess(
        history(train, train * 1.05, config={"optimizer": "sgd", "lr": 0.4, "batch_size": 64})
    )
    assert "lr_far_above_usual" in present(small.symptoms)


def test_a_run_that_went_nan_while_still_falling_is_broken_not_unfinished():
    # Both losses fall smoothly for seven epochs, then go NaN. They were still falling, but
    # training on gives more NaN, and steps too small do not make a loss non-finite: the
    # instability is the answer, not more epochs or a larger rate.
    e = np.arange(1, 11, dtype=float)
    train = 0.25 + 1.1 * np.exp(-e / 2.5)
    train[7:] = np.nan
    val = train * 1.05
    series = {"train_loss": Series.full(train), "val_loss": Series.full(val)}
    run = assess(History(e, series))
    assert "still_improving" in present(run.symptoms)
    assert max(run.scores, key=run.scores.__getitem__) == "numerical_instability"
    assert "not_converged" not in run.scores and "lr_too_low" not in run.scores


def test_a_ratio_held_on_a_plateau_is_a_scale_only_when_no_floor_could_make_it():
    # Both losses sit on a plateau, training 3.5 times validation (noisy training labels add a
    # floor that holds the ratio as still as a scale would): no sign of a loss computed
    # differently. A sum over 32-sample batches against a mean holds 32 on the same plateau,
    # and a ratio of 3.5 held while both curves fall fivefold is a scale too.
    rng = np.random.default_rng(5)
    e = np.arange(1, 13, dtype=float)
    val = 0.30 * (1 + rng.normal(0, 0.005, 12))
    train = val * 3.5 * (1 + rng.normal(0, 0.005, 12))

    def scaled(train, val) -> bool:
        return "loss_scale_mismatch" in present(assess(history(train, val)).symptoms)

    assert not scaled(train, val)
    assert scaled(val * 32 * (1 + rng.normal(0, 0.005, 12)), val)
    falling = 0.06 + 1.2 * np.exp(-e / 3)
    assert scaled(falling * 3.5, falling)


def test_a_curve_flattening_after_its_steep_first_epochs_is_not_the_jitter_of_one_batch():
    # Eight epochs of a regression: training falls from 0.81 to 0.16 in its first epoch, then
    # flattens, turning up once; validation is smoother. The convex fall, not batch noise, makes
    # its second differences large. Thirty epochs turning up and down throughout are one batch.
    train = [0.81, 0.156, 0.092, 0.08, 0.085, 0.069, 0.064, 0.059]
    val = [0.2, 0.142, 0.154, 0.137, 0.118, 0.1, 0.098, 0.097]
    sizes = {"train_size": 850, "batch_size": 32}
    found = present(assess(history(train, val, config=sizes)).symptoms)
    assert "train_jitters_like_one_batch" not in found
    found = present(assess(history(*last_batch_reported(), config=sizes)).symptoms)
    assert "train_jitters_like_one_batch" in found


def test_a_finite_spike_that_came_back_keeps_numerical_instability_a_candidate():
    # An epoch whose mean jumps 150-fold and comes back (a spike of its batches at a high
    # rate), finite throughout: overshooting steps make that. A NaN is numerical trouble.
    train = np.array([1.2, 1.066, 1.05, 160.0, 1.052, 1.034, 1.042, 1.033])
    val = np.array([0.995, 0.977, 0.938, 0.92, 0.923, 0.924, 0.92, 0.92])
    config = {"optimizer": "rmsprop", "learning_rate": 0.027}
    spiked = assess(history(train, val, config=config))
    assert "nonfinite" in present(spiked.symptoms)
    assert 0 < spiked.scores["numerical_instability"] < 0.5
    broke = train.copy()
    broke[4] = np.nan
    assert assess(history(broke, val, config=config)).scores["numerical_instability"] >= 0.9


def test_steps_that_exploded_early_do_not_make_the_later_epochs_means_disagree():
    # Twenty logged steps an epoch whose epoch means are exactly the reported training loss,
    # but the second epoch's steps exploded to 1e17 before the run settled near 1. Each epoch's
    # steps are averaged on their own: the explosion's rounding does not leak into the settled
    # epochs, whose means agree with what was reported, so the two curves are the same quantity
    # (a running sum had read "losses computed differently, 100%" beside the explosion).
    rng = np.random.default_rng(5)
    per_epoch, epochs = 20, 12
    position = np.concatenate([e + np.arange(1, per_epoch + 1) / per_epoch for e in range(epochs)])
    steps = 1.2 * np.exp(-0.05 * position) * np.exp(rng.normal(0, 0.05, len(position)))
    steps[per_epoch : 2 * per_epoch] *= 1e17
    train = steps.reshape(epochs, per_epoch).mean(axis=1)
    val = 1.05 * train
    val[1] = 1.3e17
    result = assess(history(train, val, steps=(position, steps), config={"num_classes": 4}))
    assert result.findings["lag"].features["steps_mean_mismatch"] < 0.01
    assert "loss_scale_mismatch" not in present(result.symptoms)


def test_training_still_falling_is_no_sign_continuing_pays_where_validation_rose_at_its_last():
    # Six epochs, validated every third: training falls every epoch, 1.10 to 0.51. Where the
    # two validation losses fell (0.95, then 0.80), both curves were still improving and more
    # epochs may pay; where the second rose (0.85, then 0.97), the model scored validation worse
    # over the epochs training fell, and its falling training loss says nothing of continuing.
    train = np.array([1.10, 0.95, 0.71, 0.62, 0.57, 0.51])
    config = {"num_classes": 3, "val_every": 3, "epochs": 6, "lr_schedule": "none"}

    def symptoms(at_3: float, at_6: float):
        val = np.full(6, np.nan)
        val[[2, 5]] = at_3, at_6
        return assess(history(train, val, config=config)).symptoms

    fell, rose = symptoms(0.95, 0.80), symptoms(0.85, 0.97)
    assert fell["still_improving"].present
    assert not rose["still_improving"].present
    assert "validation" in rose["still_improving"].detail
    assert "not_converged" not in compatible(rose)


def test_training_accuracy_far_below_validation_is_more_than_dropout_explains():
    # Digits with 35% of the training labels flipped and dropout 0.3: training accuracy 0.69
    # against validation's 0.95. Dropout costs training a few points of accuracy, not 26:
    # regularization may be at work beside the labels, but it is not claimed as the answer.
    run = SUITE_BY_NAME["label_noise_train-22"].without_probe()
    noisy = assess(run)
    assert "accuracy_deficit_beyond_dropout" in present(noisy.symptoms)
    assert noisy.scores["regularization_train_only"] <= UNCLAIMED
    assert noisy.scores["label_noise_train"] > noisy.scores["regularization_train_only"]
    # The same accuracies logged as percentages read the same.
    percent = {k: run.epoch_series[k] for k in ("train_accuracy", "val_accuracy")}
    scaled = replace(
        run,
        epoch_series={
            **run.epoch_series,
            **{k: Series(s.values * 100, s.present) for k, s in percent.items()},
        },
    )
    assert "accuracy_deficit_beyond_dropout" in present(assess(scaled).symptoms)
    # Training accuracy five points under validation's, as dropout leaves it: no such reading.
    val_acc = run.epoch_series["val_accuracy"].values
    dropout_only = with_accuracies(run, val_acc - 0.05, val_acc)
    assert "train_accuracy_far_below_validation" not in present(assess(dropout_only).symptoms)


def test_an_epoch_mean_accuracy_still_climbing_is_not_a_deficit():
    # A short run still learning fast: each epoch's mean training accuracy trails the
    # validation accuracy measured at the epoch's end by half an epoch's climb (15 points), yet
    # none is below the accuracy validation had before that epoch began.
    val_acc = np.array([0.05, 0.35, 0.65, 0.96])
    train_acc = np.array([0.03, 0.2, 0.5, 0.8])
    losses = history([2.2, 1.6, 1.0, 0.4], [2.0, 1.3, 0.7, 0.2])
    result = assess(with_accuracies(losses, train_acc, val_acc))
    deficit = result.symptoms["train_accuracy_far_below_validation"]
    assert not deficit.present
    assert val_acc[-1] - train_acc[-1] >= 0.15  # what comparing at the epoch's end would read
