"""Step columns: validation, last-write-wins merging, exact storage and bounded rewriting."""

import math

import numpy as np
import pytest

from app.errors import InvalidInput
from app.runs import steps


def table(rows):
    return steps.from_rows(rows, max_keys=10)


def test_rows_round_trip_with_nan_absent_and_infinity_kept_apart():
    rows = [
        {"step": 3, "train_loss": math.nan, "lr": 0.1},
        {"step": 1, "train_loss": 1.5},
        {"step": 2, "train_loss": None, "val_loss": math.inf},
    ]
    decoded = steps.decode(steps.encode(table(rows)))
    out = steps.to_rows(decoded)
    assert [r["step"] for r in out] == [1, 2, 3]
    assert out[0] == {"step": 1, "train_loss": 1.5}
    assert out[1] == {"step": 2, "val_loss": math.inf}
    assert math.isnan(out[2]["train_loss"]) and out[2]["lr"] == 0.1 and "val_loss" not in out[2]


def test_merge_lets_the_later_row_win_whole():
    old = table([{"step": s, "train_loss": 1.0, "lr": 0.5} for s in range(5)])
    new = table([{"step": 3, "train_loss": 9.0}, {"step": 7, "train_loss": 7.0}])
    merged = steps.to_rows(steps.merge([old, new]))
    assert [r["step"] for r in merged] == [0, 1, 2, 3, 4, 7]
    assert merged[3] == {"step": 3, "train_loss": 9.0}
    assert merged[4] == {"step": 4, "train_loss": 1.0, "lr": 0.5}


def test_whole_float_step_numbers_become_integers():
    t = table([{"step": 2.0, "train_loss": 1.0}])
    assert t.step.dtype == np.int64 and steps.to_rows(t) == [{"step": 2, "train_loss": 1.0}]


@pytest.mark.parametrize(
    "rows",
    [
        [{"step": 0.5, "train_loss": 1.0}],
        [{"step": -1, "train_loss": 1.0}],
        [{"step": math.nan, "train_loss": 1.0}],
        [{"train_loss": 1.0}],
        [{"step": 1, "epoch": 0.1}],
    ],
)
def test_invalid_rows_raise(rows):
    with pytest.raises(InvalidInput):
        table(rows)


def test_too_many_keys_raise():
    with pytest.raises(InvalidInput, match="LOSSGAP_MAX_METRICS_PER_ROW"):
        steps.from_rows([{"step": 1, "train_loss": 1.0, **{f"k{i}": 1.0 for i in range(20)}}], 10)


def simulate_stream(appends: int, rows_per_append: int) -> tuple[int, int]:
    """Rows rewritten by compaction, and chunks left, for a run streamed in equal appends."""
    chunks: list[tuple[int, int]] = []
    next_id, rewritten = 0, 0
    for _ in range(appends):
        chunks.append((next_id, rows_per_append))
        next_id += 1
        while (picked := steps.plan_compaction(chunks)) is not None:
            merged = sum(n for i, n in chunks if i in picked)
            rewritten += merged
            position = next(k for k, (i, _) in enumerate(chunks) if i == picked[0])
            chunks = [c for c in chunks if c[0] not in picked]
            chunks.insert(position, (next_id, merged))
            next_id += 1
    return rewritten, len(chunks)


def test_compaction_rewrites_each_row_a_logarithmic_number_of_times():
    appends, per_append = 5000, 100
    rewritten, left = simulate_stream(appends, per_append)
    total = appends * per_append
    assert rewritten / total <= math.log(total / per_append, 8) + 1
    assert left <= 8 * 7


def test_compaction_only_merges_neighbours_of_the_same_tier():
    assert steps.plan_compaction([(1, 100)] * 7) is None
    big_between = [(1, 100), (2, 100), (3, 10**6), *[(i, 100) for i in range(4, 10)]]
    assert steps.plan_compaction(big_between) is None
    ids = steps.plan_compaction([(i, 100) for i in range(8)])
    assert ids == list(range(8))
