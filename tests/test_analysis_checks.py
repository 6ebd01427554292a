"""Each statistical check on curves where the right answer is known by construction."""

import math

import numpy as np
import pytest

from app.analysis import History, Series, config_keys
from app.analysis.checks import (
    convergence,
    early_stop,
    gap,
    lag,
    loss_scale,
    metrics,
    nonfinite,
    overfit,
    progress,
    stability,
)
from app.analysis.curves import prepare
from app.analysis.stats import log10p

E = np.arange(1, 41, dtype=float)


def curves(train, val, epochs=None, config=None, task="classification", steps=None, **extra):
    epochs = E[: len(train)] if epochs is None else epochs
    series = {
        "train_loss": Series.full(np.asarray(train, float)),
        "val_loss": Series.full(np.asarray(val, float)),
    }
    series.update({k: Series.full(np.asarray(v, float)) for k, v in extra.items()})
    step, step_series = np.zeros(0, np.int64), {}
    if steps is not None:
        position, loss = steps
        step = np.arange(len(loss), dtype=np.int64)
        step_series = {"epoch": Series.full(position), "train_loss": Series.full(loss)}
    history = History(
        epoch=epochs,
        epoch_series=series,
        step=step,
        step_series=step_series,
        config=config or {},
        task=task,
    )
    return prepare(history)


def decay(t, a=2.0, tau=6.0, c=0.2):
    return a * np.exp(-t / tau) + c


def test_gap_is_significant_against_noise_only_when_it_is_large():
    rng = np.random.default_rng(0)
    base = decay(E)
    big = gap.check(curves(base, base + 0.3 + rng.normal(0, 0.01, 40)))
    assert big.status == "flagged" and big.features["gap_z"] > 0.2
    small = gap.check(curves(base, base + 0.002 + rng.normal(0, 0.02, 40)))
    assert small.status == "passed" and small.features["gap_within_noise"] == 1.0


def test_gap_uses_the_validation_size_for_its_standard_error():
    base = decay(E)
    tiny_val = gap.check(curves(base, base - 0.05, config={"val_size": 20}))
    big_val = gap.check(curves(base, base - 0.05, config={"val_size": 100_000}))
    assert tiny_val.status == "passed" and big_val.status == "flagged"


def epoch_means(f, epochs, per_epoch=200):
    """What an epoch-mean training loss reports: the mean of f over (e - 1, e]."""
    t = np.concatenate(
        [np.linspace(e - 1, e, per_epoch, endpoint=False) + 1 / per_epoch for e in epochs]
    )
    loss = f(t)
    return loss.reshape(len(epochs), per_epoch).mean(axis=1), t, loss


def test_half_epoch_lag_is_recognized_from_epochs_and_from_steps():
    epochs = np.arange(1, 13, dtype=float)
    reported, t, step_loss = epoch_means(lambda x: decay(x, tau=3), epochs)
    val = decay(epochs, tau=3) + 0.01
    found = lag.check(curves(reported, val, epochs=epochs))
    assert found.status == "flagged"
    assert 0.3 < found.statistic < 0.8  # ½ for a pure lag
    assert found.features["lag_closed"] > 0.5
    with_steps = lag.check(curves(reported, val, epochs=epochs, steps=(t, step_loss)))
    assert with_steps.features["lag_steps_closed"] > 0.8


def test_no_lag_when_the_gap_is_a_constant_offset():
    base = decay(E)
    found = lag.check(curves(base + 0.3, base))
    assert found.status == "passed" and found.features["lag_closed"] < 0.2


def test_overfitting_is_a_significant_rise_after_the_minimum():
    rng = np.random.default_rng(1)
    train = decay(E, c=0.02)
    val = 0.5 + 0.002 * (E - 12) ** 2 + rng.normal(0, 0.005, 40)
    found = overfit.check(curves(train, val))
    assert found.status == "flagged" and found.p_value < 0.01
    assert "epoch 12" in found.detail or "epoch 11" in found.detail or "epoch 13" in found.detail
    flat = overfit.check(curves(train, 0.5 + rng.normal(0, 0.01, 40)))
    assert flat.status == "passed"


def test_a_rise_too_small_to_matter_carries_no_trend_evidence():
    # After a step schedule validation creeps from 0.1832 to 0.1837 over forty epochs: the
    # trend is significant (every epoch a hair higher) and the best checkpoint is worth no more
    # than the last. The check still reports the trend; the evidence the models read from it
    # grows with the rise, in full from 5% of the loss level.
    train = decay(E, c=0.0005)
    tiny = 0.1832 + 0.0005 * np.clip(E - 12, 0, None) / 28
    found = overfit.check(curves(train, tiny))
    assert found.status == "flagged" and found.statistic > 0.8
    material = 0.1832 + 0.05 * np.clip(E - 12, 0, None) / 28
    full = overfit.check(curves(train, material))
    assert full.features["of_logp"] == pytest.approx(log10p(full.p_value) / 10)
    assert full.features["of_tau"] == pytest.approx(full.statistic)
    assert found.p_value <= full.p_value  # as significant, and a tenth of the evidence
    assert found.features["of_logp"] < 0.1 * full.features["of_logp"]
    assert found.features["of_tau"] < 0.1 * found.statistic


def test_non_finite_values_and_explosions_are_flagged():
    train = decay(E)
    train_nan = train.copy()
    train_nan[30:] = np.nan
    assert nonfinite.check(curves(train_nan, train)).status == "flagged"
    exploding = train.copy()
    exploding[35:] = 1e4
    assert nonfinite.check(curves(exploding, train)).features["nf_jump"] >= 3
    assert nonfinite.check(curves(train, train)).status == "passed"


def test_batch_losses_near_zero_are_noise_and_a_batch_far_above_the_start_is_an_explosion():
    rng = np.random.default_rng(4)
    n = 40 * 50
    position = np.linspace(0, 40, n, endpoint=False)
    start, floor = 2.3, 1e-6
    spread = 0.2 + 1.3 * position / 40  # batch losses scatter over decades as they near zero
    batches = np.maximum(start * np.exp(-position / 2), floor) * rng.lognormal(0, spread)
    train = np.array([batches[(position >= e - 1) & (position < e)].mean() for e in E])
    val = 1.2 * train  # the run's level ends up near zero too
    calm = nonfinite.check(curves(train, val, steps=(position, batches)))
    assert calm.status == "passed", calm.detail  # 1e-6 to 1e-3 late in the run is noise
    exploding = batches.copy()
    exploding[n - 10] = 50 * start
    loud = nonfinite.check(curves(train, val, steps=(position, exploding)))
    assert loud.status == "flagged" and "orders of magnitude" in loud.detail


def test_oscillation_and_spikes_mean_an_unstable_learning_rate():
    rng = np.random.default_rng(2)
    wobbly = 1.0 + 0.3 * np.sign(np.sin(E * 2.5)) + rng.normal(0, 0.05, 40)
    assert stability.check(curves(wobbly, wobbly)).status == "flagged"
    spiky = decay(E)
    spiky[[10, 25]] += 2.0
    twice = stability.check(curves(spiky, decay(E)))
    assert twice.features["st_spikes"] > 0 and twice.status == "flagged"
    assert stability.check(curves(decay(E), decay(E))).status == "passed"


def test_one_spike_is_a_bad_batch_not_a_learning_rate_that_overshoots():
    once = decay(E)
    once[25] += 2.0
    finding = stability.check(curves(once, decay(E)))
    assert "1 spike" in finding.detail and finding.status == "passed"


def test_a_loss_trained_to_rounding_jitters_without_overshooting():
    # Training memorizes 60 samples: its loss falls from 0.9 to 1e-12 and then jitters by float
    # rounding, huge next to its own level and a millionth of where it started. The same swings
    # a hundred thousand times larger overshoot.
    rng = np.random.default_rng(4)
    epochs = np.arange(1.0, 101.0)
    memorized = 0.9 * np.exp(-epochs) + 1e-12 * (1 + rng.exponential(5.0, 100))
    memorized[[40, 70, 90]] += 2e-6
    val = np.where(epochs % 4 == 0, 0.83, np.nan)  # validated every fourth epoch
    assert stability.check(curves(memorized, val, epochs)).status == "passed"
    overshooting = memorized.copy()
    overshooting[[40, 70, 90]] += 0.2
    assert stability.check(curves(overshooting, val, epochs)).status == "flagged"


def test_still_falling_at_the_end_is_not_converged():
    falling = 2.0 - 0.03 * E
    assert convergence.check(curves(falling, falling + 0.1)).status == "flagged"
    flat = decay(E, tau=3)
    assert convergence.check(curves(flat, flat + 0.1)).status == "passed"


def test_constant_ratio_is_a_loss_computed_differently():
    val = decay(E)
    summed = loss_scale.check(curves(32 * val, val))
    assert summed.status == "flagged" and math.isclose(summed.statistic, 32, rel_tol=0.05)
    assert loss_scale.check(curves(val * 1.05, val)).status == "passed"
    # A loss below zero is no sign of two quantities (a negative log-likelihood goes there).
    assert loss_scale.check(curves(val - 1.0, val - 0.99)).status == "passed"


def test_an_early_end_after_a_small_bump_is_premature_stopping():
    val = decay(E[:20], tau=8)
    val[-2:] = val[-3] + np.array([0.002, 0.003])
    found = early_stop.check(curves(decay(E[:20], tau=7), val))
    assert found.status == "flagged" and found.statistic == 2
    assert early_stop.check(curves(decay(E), decay(E))).status == "passed"


def test_a_stop_the_config_declares_is_judged_against_the_validation_noise():
    # A small, noisy validation set still falling: early stopping with a patience of 1 fires
    # on a bump of about 15% of the loss level, within twice the curve's own epoch-to-epoch
    # jitter (9% of the level) but above the fixed share a run not known to be stopped needs.
    rng = np.random.default_rng(3)
    val = decay(E[:12], tau=5) * (1 + 0.05 * rng.standard_normal(12))
    val[-1] = val[:-1].min() * 1.25
    run = (decay(E[:12], tau=4), val)
    declared = {"early_stopping_patience": 1, "epochs": 40}
    assert early_stop.check(curves(*run, config=declared)).status == "flagged"
    # Not declared, or declared but the run went on to its planned end: the fixed share holds.
    assert early_stop.check(curves(*run)).status == "passed"
    planned = {"early_stopping_patience": 1, "epochs": 12}
    assert early_stop.check(curves(*run, config=planned)).status == "passed"
    # A rise far beyond the noise is a real turn, not a bump to stop on.
    val[-1] = val[:-1].min() * 2
    assert early_stop.check(curves(*run, config=declared)).status == "passed"


@pytest.mark.parametrize("flag", [True, "yes", 0, -3, float("nan")])
def test_a_patience_that_is_no_count_of_evaluations_declares_no_stop(flag):
    # `early_stopping_patience: true` says early stopping was on, not after how many
    # evaluations: neither the stop nor the short patience is read into it.
    config = {"early_stopping_patience": flag, "epochs": 40}
    assert config_keys.early_stopping_patience(config) is None
    assert config_keys.config_finding(config).features["cfg_small_patience"] == 0.0
    assert config_keys.early_stopping_patience({"early_stopping_patience": 3.0}) == 3


def test_little_progress_from_the_start_is_flagged():
    flat = 2.3 - 0.001 * E
    found = progress.check(curves(flat, flat, config={"num_classes": 10}))
    assert found.status == "flagged" and found.features["pg_rel_level"] > 0.9
    good = progress.check(curves(decay(E), decay(E) + 0.05))
    assert good.status == "passed"


def test_loss_rising_while_accuracy_rises_is_a_divergence():
    rng = np.random.default_rng(3)
    val = 0.3 + 0.01 * E + rng.normal(0, 0.002, 40)
    acc = 0.8 + 0.003 * E + rng.normal(0, 0.001, 40)
    found = metrics.check(curves(decay(E), val, val_accuracy=acc))
    assert found.status == "flagged"
    agree = metrics.check(curves(decay(E), val, val_accuracy=1 - 0.003 * E))
    assert agree.status == "passed"


def test_loss_rising_while_accuracy_holds_is_a_divergence():
    # Validation loss climbs over the second half while accuracy stays where it was (within
    # noise): the model grows overconfident on the samples it gets wrong, it predicts no worse.
    rng = np.random.default_rng(4)
    val = 0.3 + 0.01 * E + rng.normal(0, 0.002, 40)
    flat = 0.9 + rng.normal(0, 0.002, 40)
    holds = metrics.check(curves(decay(E), val, val_accuracy=flat))
    assert holds.status == "flagged" and holds.features["ad_acc_holds"] == 1.0
    falls = metrics.check(curves(decay(E), val, val_accuracy=0.9 - 0.003 * E))
    assert falls.status == "passed"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_short_histories_are_skipped_not_crashed(n):
    from app.analysis.checks import CHECKS

    c = curves(decay(E[:n]), decay(E[:n]))
    for check in CHECKS:
        assert check(c).status in ("skipped", "passed", "flagged")


@pytest.mark.parametrize("n", [2, 3, 10, 101])
def test_robust_sigma_is_scipys_median_abs_deviation(n):
    from scipy import stats as scipy_stats

    from app.analysis.stats import robust_sigma

    rng = np.random.default_rng(n)
    for values in (rng.normal(0, 2.5, n), rng.standard_cauchy(n), np.repeat(1.5, n)):
        expected = scipy_stats.median_abs_deviation(values, scale="normal")
        assert robust_sigma(values) == expected  # the same operations, bit for bit
    with_nan = np.append(rng.normal(size=n), np.nan)
    assert math.isnan(robust_sigma(with_nan))
    assert math.isnan(scipy_stats.median_abs_deviation(with_nan, scale="normal"))


@pytest.mark.parametrize("n", [3, 4, 30, 250, 900])
def test_theil_sen_is_scipys_theilslopes_slope(n):
    from scipy import stats as scipy_stats

    from app.analysis.stats import MAX_PAIRWISE, _thin, theil_sen

    rng = np.random.default_rng(n)
    x = np.arange(n, dtype=float)
    for y in (0.3 - 0.01 * x + rng.normal(0, 0.05, n), np.exp(-x / 10), np.repeat(2.0, n)):
        tx, ty = _thin(x, y)
        assert len(tx) == min(n, MAX_PAIRWISE)
        assert theil_sen(x, y) == scipy_stats.theilslopes(ty, tx).slope
