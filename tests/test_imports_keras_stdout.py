"""Keras `model.fit` stdout, with and without validation data, against independent conversions.

`shared/peers/howreal/` holds the stdout of twelve real Keras programs (run by the "How Real Are
They?" study) beside a JSON of the per-epoch values its authors' conversion read from the final
progress line of each `Epoch k/N` block, ignoring `evaluate()` output after training. The
plain-log parser must read the same numbers from the raw text, including the six runs that had
no validation data and one whose every loss is `nan`.
"""

import json
import math
from pathlib import Path

import pytest

from app.imports import detect

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers" / "howreal"
CASES = sorted(p.name.split(".")[0] for p in (PEERS / "raw").glob("*.stdout.txt"))


def same(a, b):
    return (a is None and (b is None or math.isnan(b))) or (
        a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
    )


def test_the_corpus_is_there():
    assert len(CASES) == 12


@pytest.mark.parametrize("case", CASES)
def test_keras_stdout_reads_as_the_independent_conversion(case):
    raw = (PEERS / "raw" / f"{case}.stdout.txt").read_bytes()
    expected = json.loads((PEERS / f"{case}.json").read_text())["epochs"]
    parsed = detect.parse(raw, f"{case}.stdout.txt", None, None, 10**8)
    assert parsed.format == "plain_log"
    assert [row["epoch"] for row in parsed.epochs] == [row["epoch"] for row in expected]
    for mine, theirs in zip(parsed.epochs, expected, strict=True):
        for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
            if key in theirs:
                assert same(theirs[key], mine.get(key)), (case, mine["epoch"], key)
            else:
                assert key not in mine
    has_val = any("val_loss" in row for row in expected)
    assert ("no validation loss in the log: a training-only history" in parsed.notes) != has_val
