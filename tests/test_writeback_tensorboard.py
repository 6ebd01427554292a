"""`lossgap diagnose LOGDIR --write-back`: a TensorBoard log dir gets the verdict as a text
summary beside its scalars, and reads the same afterwards."""

import json
import shutil

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util
from typer.testing import CliRunner

from app.cli import cli
from tests.test_imports import REALWORLD

runner = CliRunner(env={"COLUMNS": "1000"})


def test_a_log_dir_gets_the_verdict_as_text_and_reads_the_same_afterwards(tmp_path):
    logdir = tmp_path / "version_0"
    shutil.copytree(REALWORLD / "tensorboard" / "lightning-mnist-tiny", logdir)
    before = runner.invoke(cli, ["diagnose", str(logdir), "--json"])
    assert before.exit_code == 0, before.output
    diagnosis = json.loads(before.output)

    written = runner.invoke(cli, ["diagnose", str(logdir), "--write-back"])
    assert written.exit_code == 0, written.output
    assert "lossgap/diagnosis" in written.output

    events = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    events.Reload()
    (text,) = events.Tensors("lossgap/diagnosis")
    shown = tensor_util.make_ndarray(text.tensor_proto).item().decode()
    assert diagnosis["summary"] in shown
    assert diagnosis["causes"][0]["id"] in shown
    after = json.loads(runner.invoke(cli, ["diagnose", str(logdir), "--json"]).output)
    assert after["gap"] == diagnosis["gap"] and after["summary"] == diagnosis["summary"]


def test_write_back_needs_somewhere_to_write(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_text("epoch,train_loss,val_loss\n1,1.0,1.1\n2,0.8,0.9\n")
    refused = runner.invoke(cli, ["diagnose", str(path), "--write-back"])
    assert refused.exit_code == 2 and "TensorBoard log dir or an MLflow run" in refused.output
