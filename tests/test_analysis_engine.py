"""The engine end to end: ranked, explained causes on runs whose answer is known."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from app.analysis import History, Series, diagnose
from app.analysis import model as cause_model
from app.analysis.catalog import BY_ID, CAUSES
from bench.scenarios.suite import FITTED_GENERATOR, RUNS, load_runs

SUITE = load_runs("all")


def test_the_model_is_fitted_for_every_cause_of_the_catalog():
    model = cause_model.load()
    assert model.version.startswith("fit-")
    assert set(model.causes) == {cause.id for cause in CAUSES}


@pytest.mark.parametrize("run", SUITE, ids=[run.name for run in SUITE])
def test_every_scenario_gets_a_well_formed_diagnosis(run):
    result = diagnose(run.history)
    confidences = [cause.confidence for cause in result.causes]
    assert confidences == sorted(confidences, reverse=True)
    candidates = {cid for s in result.symptoms if s.present for cid in s.explained_by}
    for cause in result.causes:
        # below the report floor only as a candidate explanation of a measured gap
        assert 0.05 <= cause.confidence <= 1 or cause.id in candidates, cause
    for cause in result.causes:
        assert cause.id in BY_ID and cause.kind == BY_ID[cause.id].kind
        assert cause.explanation and cause.actions
    assert {check.id for check in result.checks} >= {"gap", "lag", "overfit", "nonfinite"}
    assert result.summary


def test_healthy_held_out_runs_raise_no_problem():
    # The controls of the generator the model is fitted on; the second generator is never
    # fitted on, and bench/accuracy.py reports how often its controls raise a problem.
    held_out = load_runs("heldout")
    healthy = [run for run in held_out if not run.planted and run.generator == FITTED_GENERATOR]
    assert healthy
    for run in healthy:
        problems = [c for c in diagnose(run.history).causes if c.kind == "problem"]
        assert all(c.confidence < 0.5 for c in problems), (run.name, problems)


def u_shaped_history() -> History:
    epochs = np.arange(1, 41, dtype=float)
    rng = np.random.default_rng(4)
    train = 2.0 * np.exp(-epochs / 6) + 0.02
    val = 0.45 + 0.0015 * (epochs - 14) ** 2 + rng.normal(0, 0.004, 40)
    return History(
        epoch=epochs,
        epoch_series={"train_loss": Series.full(train), "val_loss": Series.full(val)},
        config={"batch_size": 32},
        task="classification",
    )


def test_a_clear_overfit_is_ranked_first_and_says_where_to_stop():
    result = diagnose(u_shaped_history())
    top = result.causes[0]
    assert top.id == "overfitting" and top.confidence >= 0.5
    best = int(np.argmin(u_shaped_history().epoch_series["val_loss"].values)) + 1
    assert any(f"Stop at epoch {best}" in action for action in top.actions)
    assert "epoch" in top.explanation and any(ch.isdigit() for ch in top.explanation)


def test_non_finite_losses_are_numerical_instability():
    epochs = np.arange(1, 11, dtype=float)
    train = np.array([2.0, 1.5, 1.2, 3.0, 40.0, 900.0, math.nan, math.nan, math.nan, math.nan])
    val = np.array([1.9, 1.4, 1.3, 5.0, 80.0, math.inf, math.nan, math.nan, math.nan, math.nan])
    history = History(
        epoch=epochs, epoch_series={"train_loss": Series.full(train), "val_loss": Series.full(val)}
    )
    result = diagnose(history)
    assert result.causes[0].id == "numerical_instability"
    assert result.causes[0].confidence >= 0.5


def test_diagnose_command_runs_locally_without_a_server(tmp_path):
    document = json.loads(next(RUNS.glob("overfitting-*.json")).read_text())["history"]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document))
    text = subprocess.run(
        [sys.executable, "-m", "app", "diagnose", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Validation loss ends" in text and "Likely causes" in text and "flagged" in text
    as_json = subprocess.run(
        [sys.executable, "-m", "app", "diagnose", str(path), "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    body = json.loads(as_json)
    assert body["status"] == "complete" and body["causes"][0]["id"] in BY_ID


def test_diagnose_command_explains_a_bad_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    done = subprocess.run(
        [sys.executable, "-m", "app", "diagnose", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "could not tell the format of broken.json" in done.stderr


def test_the_catalog_names_only_real_checks_and_features():
    from app.analysis.diagnose import features_of

    produced = set(features_of(SUITE[0].history)[2])
    checks = {finding for finding in features_of(SUITE[0].history)[1]}
    for cause in CAUSES:
        assert set(cause.features) <= produced, (cause.id, set(cause.features) - produced)
        assert set(cause.evidence) <= checks, (cause.id, set(cause.evidence) - checks)
        assert len(set(cause.features)) == len(cause.features), cause.id
    assert [c.id for c in CAUSES] == list(dict.fromkeys(c.id for c in CAUSES))


def test_the_catalog_matches_the_public_cause_catalog():
    from pathlib import Path

    contract = Path(__file__).resolve().parents[1] / "docs" / "causes.md"
    published_part = contract.read_text().split("## How lossgap decides")[0]
    rows = [line.split("|") for line in published_part.splitlines() if line.startswith("| `")]
    published = {row[1].strip().strip("`"): row[2].strip() for row in rows}
    assert {c.id: c.kind for c in CAUSES} == published


def test_explanations_quote_only_checks_that_ran():
    history = History(
        epoch=np.arange(1, 4, dtype=float),
        epoch_series={
            "train_loss": Series.full(np.array([1.93, 1.10, 0.91])),
            "val_loss": Series.full(np.array([1.21, 0.84, 0.80])),
        },
        config={"dropout": 0.5, "val_size": 360},
        task="classification",
    )
    for cause in diagnose(history).causes:
        assert "needs at least" not in cause.explanation, cause.explanation


DEGENERATE = {
    "all zero": ([0.0] * 10, [0.0] * 10),
    "zero after the first epoch": ([0.0037] + [0.0] * 9, [None] * 10),
    "constant": ([1.0] * 10, [1.0] * 10),
    "negative": ([-(i + 1.0) for i in range(10)], [-(i + 0.5) for i in range(10)]),
    "one epoch": ([1.0], [1.2]),
    "training only": ([2.0 / (i + 1) for i in range(10)], [None] * 10),
    "validation only": ([None] * 10, [2.0 / (i + 1) for i in range(10)]),
    "huge": ([1e300 * (i + 1) for i in range(10)], [1e300] * 10),
    "tiny": ([1e-300 * (10 - i) for i in range(10)], [1e-300] * 10),
    "every loss non-finite": ([math.nan] * 10, [math.inf] * 10),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_histories_get_a_diagnosis_not_an_error(case):
    train, val = DEGENERATE[case]
    rows = [
        {
            "epoch": i + 1,
            **({} if t is None else {"train_loss": t}),
            **({} if v is None else {"val_loss": v}),
        }
        for i, (t, v) in enumerate(zip(train, val, strict=True))
    ]
    from app.analysis.document import history_from_document

    result = diagnose(history_from_document({"epochs": rows}))
    assert result.summary
    assert all(0 <= cause.confidence <= 1 for cause in result.causes)
    assert all(math.isfinite(cause.confidence) for cause in result.causes)


@pytest.mark.parametrize(
    "value", [math.inf, -math.inf, math.nan, 0, -3, 2.5, 1e300, True, "90", None, [90]]
)
def test_any_planned_epochs_in_the_config_gets_a_diagnosis(value):
    from app.analysis.document import history_from_document

    rows = [
        {"epoch": i + 1, "train_loss": 2.0 / (i + 1), "val_loss": 2.1 / (i + 1)} for i in range(8)
    ]
    result = diagnose(history_from_document({"epochs": rows, "config": {"epochs": value}}))
    assert result.summary
    planned = [s for s in result.symptoms if s.id == "ran_as_planned"]
    assert not planned or planned[0].value is not None


def test_a_null_loss_is_a_loss_that_was_not_a_number_and_an_absent_one_is_none():
    from app.analysis.curves import prepare
    from app.analysis.document import history_from_document

    rows = [
        {"epoch": 1, "train_loss": 1.0, "val_loss": 1.1},
        {"epoch": 2, "train_loss": None, "val_loss": 1.0},
        {"epoch": 3, "val_loss": 0.9, "val_accuracy": None},
    ]
    curves = prepare(history_from_document({"epochs": rows}))
    assert (curves.nonfinite_train, curves.nonfinite_val) == (1, 0)
    assert (curves.reported_train, curves.reported_val) == (2, 3)
    assert curves.val_acc is None


def test_runs_logged_without_validation_get_the_causes_a_training_curve_shows():
    from app.analysis.catalog import TRAINING_CURVE_CAUSES

    held_out = load_runs("heldout")
    for run in held_out:
        result = diagnose(run.training_only())
        assert {c.id for c in result.causes} <= set(TRAINING_CURVE_CAUSES)
        assert result.summary.startswith("Fewer than two epochs have a validation loss")
        if not run.planted:
            assert not [c for c in result.causes if c.kind == "problem" and c.confidence >= 0.5]
    diverged = [r for r in held_out if r.planted == {"numerical_instability"}]
    assert len(diverged) >= 6
    for run in diverged:
        assert diagnose(run.training_only()).causes[0].id == "numerical_instability"


def test_a_loss_that_is_nan_from_the_first_epoch_is_numerical_instability():
    from app.analysis.document import history_from_document

    # How the DeepFD/HowReal records write a run with learning rate 3 on a squared error.
    rows = [{"epoch": e, "train_loss": None, "train_accuracy": 0.0987} for e in range(1, 31)]
    config = {"optimizer": "sgd", "learning_rate": 3.0, "loss": "mse", "batch_size": 10}
    result = diagnose(history_from_document({"epochs": rows, "config": config}))
    assert result.causes[0].id == "numerical_instability"
    assert result.causes[0].confidence >= 0.8


def test_every_real_world_label_names_a_run_of_the_corpus():
    from bench import realworld

    names = {name for name, _, _ in realworld.inputs()}
    assert set(realworld.LABELS) <= names
    assert len(realworld.LABELS) == 22
