"""The fit keeps the confidence the history models earned out of family."""

import numpy as np
from scipy.special import expit

from app.analysis import model as cause_model
from bench.fit_model import MAX_HISTORY_TRUST, capped_stack


def test_no_shipped_stacking_sharpens_the_history_opinion():
    stacks = [m.stack for m in cause_model.load().causes.values() if m.stack is not None]
    assert stacks
    assert all(s.history <= MAX_HISTORY_TRUST + 1e-9 for s in stacks)


def test_a_probe_that_measures_the_cause_adds_to_a_calibrated_history_and_noise_does_not():
    rng = np.random.default_rng(0)
    n = 400
    y = (rng.random(n) < 0.3).astype(float)
    history = np.where(y == 1, 1.0, -1.0) + rng.normal(0, 1.5, n)  # a calibrated, weak opinion
    groups = np.arange(n) % 4
    informative = np.where(y == 1, 2.0, -2.0) + rng.normal(0, 1.0, n)
    stack, p = capped_stack(history, informative, y, groups)
    weights = stack["weights"]
    assert isinstance(weights, dict)
    assert weights["h"] == 1.0 and weights["q"] > 0.5
    assert np.mean((p > 0.5) == (y == 1)) > np.mean((expit(history) > 0.5) == (y == 1))
    noise = rng.normal(0, 1.0, n)
    stack, _ = capped_stack(history, noise, y, groups)
    weights = stack["weights"]
    assert isinstance(weights, dict)
    assert abs(weights["q"]) < 0.2
