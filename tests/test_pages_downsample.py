"""Thinning step losses for the screen keeps the envelope: every spike and dip survives."""

import itertools

import numpy as np

from app.pages.downsample import min_max


def test_a_million_points_become_two_per_bucket_and_keep_every_extreme():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 100, 1_000_000)
    y = np.exp(-x / 30) + rng.normal(0, 0.01, len(x))
    y[123_456] = 50.0  # one exploding batch
    y[654_321] = -3.0  # one impossible dip
    y[10] = np.nan
    thinned = min_max(x, y, buckets=500)
    assert len(thinned.x) <= 1000 and thinned.kept_from == len(x) - 1
    assert np.all(np.diff(thinned.x) >= 0)
    assert 50.0 in thinned.y and -3.0 in thinned.y
    edges = np.linspace(x[0], x[-1], 501)
    for low, high in itertools.pairwise(edges):  # each bucket's max is kept
        inside = (x >= low) & (x < high) & np.isfinite(y)
        shown = (thinned.x >= low) & (thinned.x < high)
        if inside.any():
            assert thinned.y[shown].max() == y[inside].max()
            assert thinned.y[shown].min() == y[inside].min()


def test_a_short_series_is_left_as_it_is():
    x, y = np.arange(10.0), np.arange(10.0) ** 2
    thinned = min_max(x, y)
    assert np.array_equal(thinned.x, x) and np.array_equal(thinned.y, y)
