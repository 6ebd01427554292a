"""The runs routes' JSON reader: the same document and errors as `json.loads`, with step rows
turned into the same columns `from_rows` makes, and each bad row named by its index."""

import json
import math
import random

import numpy as np
import pytest

from app.errors import InvalidInput
from app.runs import steps, streamed
from tests.conftest import post_json

MAX_KEYS = 64
EPOCHS = [{"epoch": 0, "train_loss": 1.0, "val_loss": 1.1}]


def table_of(body: dict) -> steps.StepTable:
    read = streamed.loads(json.dumps(body).encode(), MAX_KEYS)
    parsed = read["steps"]
    assert isinstance(parsed, streamed.StreamedSteps) and parsed.bad is None
    return steps.from_arrays(parsed.step, parsed.columns, parsed.keys, MAX_KEYS)


def same_table(a: steps.StepTable, b: steps.StepTable) -> None:
    assert a.step.tolist() == b.step.tolist() and set(a.columns) == set(b.columns)
    for name, column in a.columns.items():
        other = b.columns[name]
        assert np.array_equal(column.values, other.values, equal_nan=True), name
        assert column.mask().tolist() == other.mask().tolist(), name


def random_rows(rng: random.Random, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        row: dict = {"step": rng.choice([i, i, float(i), max(0, i - 3)])}
        row[rng.choice(["train_loss", "val_loss"])] = rng.choice([rng.random(), None, math.nan])
        if rng.random() < 0.3:
            row["lr"] = rng.choice([0.1, 1, None])
        if i > n // 2 and rng.random() < 0.1:
            row["grad_norm"] = rng.random()  # a key that appears late
        rows.append(row)
    return rows


@pytest.mark.parametrize("n", [1, 7, streamed.ROW_BATCH, 3 * streamed.ROW_BATCH + 5])
def test_rows_become_the_columns_from_rows_makes(n):
    rows = random_rows(random.Random(n), n)
    same_table(table_of({"name": "x", "steps": rows}), steps.from_rows(rows, MAX_KEYS))


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "x", "epochs": [{"epoch": 1, "train_loss": NaN}], "config": {"a": [1, {}]}}',
        ' { "steps" : { "step": [1, 2], "train_loss": [Infinity, -Infinity] } } ',
        '{"steps": []}',
        '{"steps": 3, "steps": [{"step": 1, "train_loss": 1}]}',
        "[1, 2, 3]",
        '"text"',
        "{}",
        '{"a": "\\u00e9\\ud83d\\ude00"}',
    ],
)
def test_other_documents_read_as_json_loads_reads_them(text):
    read = streamed.loads(text.encode(), MAX_KEYS)
    expected = json.loads(text)
    if isinstance(expected, dict) and isinstance(expected.get("steps"), list) and expected["steps"]:
        assert isinstance(read["steps"], streamed.StreamedSteps)
        read, expected = {**read, "steps": None}, {**expected, "steps": None}
    assert json.dumps(read) == json.dumps(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"a" 1}',
        '{"a": 1,}',
        '{"a": 1} x',
        '{"steps": [{"step": 1, "train_loss": 1},]}',
        '{"steps": [{"step": 1, "train_loss": 1} {"step": 2}]}',
        '{"steps": [1, 2',
        "{a: 1}",
    ],
)
def test_malformed_bodies_fail_as_json_loads_fails(text):
    with pytest.raises(json.JSONDecodeError) as ours:
        streamed.loads(text.encode(), MAX_KEYS)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert (ours.value.msg, ours.value.pos) == (theirs.value.msg, theirs.value.pos)


def test_too_many_keys_stop_the_conversion():
    rows = [{"step": i, "train_loss": 1.0, f"m{i}": 1.0} for i in range(200)]
    read = streamed.loads(json.dumps({"steps": rows}).encode(), MAX_KEYS)["steps"]
    assert len(read.keys) > MAX_KEYS and not read.columns
    with pytest.raises(InvalidInput, match="distinct keys exceed"):
        steps.from_arrays(read.step, read.columns, read.keys, MAX_KEYS)


FAR = streamed.ROW_BATCH + 17  # past the first batch


def rows_with(bad: dict) -> list[dict]:
    rows: list = [{"step": i, "train_loss": 1.0} for i in range(FAR + 40)]
    rows[FAR] = bad
    return rows


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"step": FAR, "train_loss": "0.5"}, f"steps[{FAR}].train_loss"),
        ({"step": FAR, "train_loss": True}, f"steps[{FAR}].train_loss"),
        ({"step": FAR, "train_loss": [1]}, f"steps[{FAR}].train_loss"),
        ([FAR, 1.0], f"steps[{FAR}]"),
    ],
)
def test_a_wrong_type_far_into_the_rows_is_named_by_its_index(client, bad, field):
    body = {"epochs": EPOCHS, "steps": rows_with(bad)}
    answer = post_json(client, "/v1/runs", body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert any(f["field"] == field for f in error["fields"]), error
    assert client.get("/v1/runs").json()["total"] == 0


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ({"train_loss": 1.0}, f"steps[{FAR}].step"),
        ({"step": 2.5, "train_loss": 1.0}, f"steps[{FAR}].step"),
        ({"step": -1, "train_loss": 1.0}, f"steps[{FAR}].step"),
        ({"step": FAR, "lr": 0.1}, f"steps[{FAR}]: each step row needs"),
    ],
)
def test_a_bad_step_row_far_into_the_rows_is_named_by_its_index(client, bad, fragment):
    body = {"epochs": EPOCHS, "steps": rows_with(bad)}
    answer = post_json(client, "/v1/runs", body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_input"
    assert fragment in answer.json()["error"]["message"]
    assert client.get("/v1/runs").json()["total"] == 0


def test_streamed_rows_are_stored_and_read_back_as_sent(client):
    rows = random_rows(random.Random(5), 2 * streamed.ROW_BATCH + 3)
    made = post_json(client, "/v1/runs", {"epochs": EPOCHS, "steps": rows})
    assert made.status_code == 201, made.text
    stored = client.get(f"/v1/runs/{made.json()['id']}").json()["steps"]
    expected = steps.to_rows(steps.from_rows(rows, MAX_KEYS))
    assert json.dumps(stored) == json.dumps(expected)
