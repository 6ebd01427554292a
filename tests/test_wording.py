"""What the diagnosis says reads as a person would write it: counts agree with their nouns,
p-values and shares have no bare `1` or minus signs to decode, numbers carry no float noise, and
a check's status and sentence agree with what the curve did."""

import json
import re

import numpy as np

from app import analysis
from app.analysis.checks import convergence, early_stop, lag
from app.analysis.wording import change, closes, count, pvalue
from app.imports import detect
from tests.test_analysis_checks import E, curves, decay
from tests.test_imports import REALWORLD

NUMBER = re.compile(r"(?<![\w.])-?(\d+\.\d+)(?:e-?\d+)?")
MAX_SIGNIFICANT = 6


def significant(digits: str) -> int:
    return len(digits.replace(".", "").lstrip("0").rstrip("0"))


def test_pvalues_counts_and_shares_read_plainly():
    assert [pvalue(p) for p in (1.0, 0.72, 0.004, 3e-9)] == [
        "p=1.00",
        "p=0.72",
        "p=0.004",
        "p<0.001",
    ]
    assert (count(1, "epoch"), count(3, "epoch")) == ("1 epoch", "3 epochs")
    assert closes(-0.27, "the gap") == "widens the gap by 27%"
    assert closes(0.4, "the gap") == "closes 40% of the gap"
    assert (change(0.2), change(-0.5)) == ("20% lower", "50% higher")


def test_a_flat_end_reports_its_p_values_as_p_values():
    flat = 0.5 + np.zeros(40)
    flat[-8:] = [0.5, 0.51, 0.49, 0.5, 0.5, 0.51, 0.49, 0.5]
    detail = convergence.check(curves(flat, flat + 0.1)).detail
    assert re.search(r"p[=<]\d", detail) and not re.search(r", \d\)", detail), detail


def test_a_shift_that_widens_the_gap_says_so():
    train = decay(E)
    val = train * 1.5  # validation above and moving with training: a shift cannot close this
    detail = lag.check(curves(train, val)).detail
    assert "closes -" not in detail and "half-epoch shift" in detail


def test_a_run_that_went_on_long_after_its_best_epoch_is_not_called_fine():
    val = np.concatenate([decay(E[:12], tau=3), decay(E[:12], tau=3)[-1] + 0.01 * E[:28]])
    found = early_stop.check(curves(decay(E), val))
    assert found.status == "passed"  # it did not stop early: it stopped late
    assert "not stopped early" in found.detail and "28 epochs after" in found.detail
    assert "would have ended it at epoch 17" in found.detail


def test_a_diagnosis_holds_no_float_noise():
    path = REALWORLD / "keras_csvlogger/speaker250.training.log"
    parsed = detect.parse(path.read_bytes(), path.name, None, None)
    from app.analysis.document import history_from_document

    body = json.dumps(analysis.diagnose(history_from_document(parsed.document("x"))).to_dict())
    noisy = [n for n in NUMBER.findall(body) if significant(n) > MAX_SIGNIFICANT]
    assert not noisy and NUMBER.findall(body)
    assert '"last_epoch": 50.0' in body


def test_the_hugging_face_import_note_is_a_whole_sentence():
    path = next((REALWORLD / "hf_trainer_state").glob("*.json"))
    notes = detect.parse(path.read_bytes(), path.name, None, None).notes
    assert any(n.endswith("since the previous evaluation") for n in notes), notes


def test_a_window_too_short_for_a_trend_test_does_not_report_a_p_value():
    epochs = [
        {"epoch": e, "train_loss": 2.0 * 0.8**e + 0.3, "val_loss": 1.6 * 0.8**e + 0.25}
        for e in range(1, 12)
    ]
    from app.analysis.document import history_from_document

    body = analysis.diagnose(history_from_document({"epochs": epochs})).to_dict()
    improving = [s for s in body["symptoms"] if s["id"].endswith("still_improving")]
    assert improving and all("p=1.00" not in s["detail"] for s in improving)
    assert any("too few epochs for a trend test" in s["detail"] for s in improving)


def test_a_curve_that_rose_is_not_said_to_have_fallen_by_a_negative_share():
    epochs = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 0.5 + 0.02 * e} for e in range(1, 31)]
    from app.analysis.document import history_from_document

    body = analysis.diagnose(history_from_document({"epochs": epochs})).to_dict()
    details = " ".join(s["detail"] for s in body["symptoms"])
    assert "fell by -" not in details and "validation loss rose by" in details
