"""Real Keras records (stdout and History CSVs) against independent conversions of them.

`tests/fixtures/peers/` (a copy of the project's shared/peers) holds what real faulty Keras
programs wrote, from two public benchmarks, beside a JSON of the per-epoch values each package's
curators converted by hand (`howreal`: the stdout of twelve programs, read from the final
progress line of each `Epoch k/N` block, `evaluate()` after training ignored; `deepfd`,
`deepfd-cov`: 23 `log.csv` files, `pandas.to_csv` of a History with no epoch column). The
importers must read the same numbers from the raw files, including the runs that had no
validation data and those whose losses are `nan`.
"""

import json
import math
from pathlib import Path

import pytest

from app.imports import detect

PEERS = Path(__file__).resolve().parent / "fixtures" / "peers"  # a copy of shared/peers
CASES = sorted(
    (folder.name, raw.name)
    for folder in PEERS.iterdir()
    for raw in (folder / "raw").glob("*")
    if raw.name.endswith((".stdout.txt", ".log.csv"))
)
FORMATS = {".stdout.txt": "plain_log", ".log.csv": "keras_csv"}


def same(theirs, mine):
    """Equal; the conversions write every non-finite value (NaN, ±inf) as null."""
    if theirs is None:
        return mine is not None and not math.isfinite(mine)
    return mine is not None and math.isclose(theirs, mine, rel_tol=1e-9)


def test_the_corpus_is_there():
    assert len(CASES) == 12 + 2 + 21


@pytest.mark.parametrize(("folder", "raw"), CASES, ids=[raw for _, raw in CASES])
def test_the_raw_record_reads_as_the_independent_conversion(folder, raw):
    case, kind = raw.split(".", 1)
    content = (PEERS / folder / "raw" / raw).read_bytes()
    expected = json.loads((PEERS / folder / f"{case}.json").read_text())["epochs"]
    parsed = detect.parse(content, raw, None, None, 10**8)
    assert parsed.format == FORMATS[f".{kind}"]
    assert [row["epoch"] for row in parsed.epochs] == [row["epoch"] for row in expected]
    for mine, theirs in zip(parsed.epochs, expected, strict=True):
        for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
            if key in theirs:
                assert same(theirs[key], mine.get(key)), (raw, mine["epoch"], key)
            else:
                assert key not in mine
    if kind == "stdout.txt":
        has_val = any("val_loss" in row for row in expected)
        training_only = "no validation loss in the log: a training-only history" in parsed.notes
        assert training_only != has_val
