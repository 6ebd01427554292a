"""`lossgap diagnose` reads any importable log locally; `lossgap import` sends one to a server."""

import json
import uuid

import httpx
import pytest
from typer.testing import CliRunner

from app.analysis.diagnose import ENGINE_VERSION
from app.cli import FAIL_EXIT, cli
from tests.conftest import LiveServer, lossgap, server_env, wipe
from tests.planted import leakage
from tests.test_imports import CASES, REALWORLD

runner = CliRunner()


@pytest.mark.parametrize("name", sorted(CASES))
def test_diagnose_prints_a_table_for_every_realworld_file(name):
    result = runner.invoke(cli, ["diagnose", str(REALWORLD / name)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Likely causes" in result.output and "Checks" in result.output
    lines = result.output.splitlines()
    train = next(line for line in lines if line.startswith("train "))
    val = next(line for line in lines if line.startswith("val "))
    assert any(block in train for block in "▁▂▃▄▅▆▇█")
    if "moodsic" not in name:  # its only validation loss is NaN: an empty line, not a crash
        assert any(block in val for block in "▁▂▃▄▅▆▇█")


def test_diagnose_json_is_the_apis_shape():
    path = REALWORLD / "keras_csvlogger/speaker250.training.log"
    result = runner.invoke(cli, ["diagnose", str(path), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["status"] == "complete" and body["causes"][0]["id"] == "overfitting"
    assert {"summary", "checks", "engine_version"} <= set(body)


def test_diagnose_can_fail_a_ci_step_on_a_confident_problem():
    path = REALWORLD / "keras_csvlogger/speaker250.training.log"  # overfits, says its MANIFEST
    body = json.loads(runner.invoke(cli, ["diagnose", str(path), "--json"]).output)
    top = body["causes"][0]
    assert top["kind"] == "problem"
    failed = runner.invoke(cli, ["diagnose", str(path), "--json", "--fail-on", "problem"])
    assert failed.exit_code == FAIL_EXIT
    assert f"{top['id']} ({top['confidence']:.2f})" in failed.output
    above = min(1.0, round(top["confidence"] + 0.005, 3))
    strict = runner.invoke(cli, ["diagnose", str(path), "--fail-on", f"problem:{above}"])
    assert strict.exit_code == 0, strict.output
    by_id = runner.invoke(cli, ["diagnose", str(path), "--fail-on", f"{top['id']}:0.1"])
    assert by_id.exit_code == FAIL_EXIT


def test_diagnose_rejects_a_fail_on_it_cannot_read():
    path = REALWORLD / "keras_csvlogger/speaker250.training.log"
    for value, says in (("problem:2", "between 0 and 1"), ("worry", "not a cause kind or id")):
        result = runner.invoke(cli, ["diagnose", str(path), "--fail-on", value])
        assert result.exit_code == 2 and says in result.output, result.output


def test_version_names_the_package_and_the_engine():
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("lossgap ") and f"engine {ENGINE_VERSION}" in result.output


def test_diagnose_explains_an_unreadable_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("nothing here\n")
    result = runner.invoke(cli, ["diagnose", str(path)])
    assert result.exit_code == 2
    assert "could not tell the format" in result.output


@pytest.mark.slow
def test_import_uploads_a_file_to_a_running_server(backend, tmp_path):
    server = LiveServer(server_env(backend, tmp_path))
    try:
        path = REALWORLD / "hf_trainer_state/finnews-sentiment-ckpt10350.trainer_state.json"
        done = lossgap("import", str(path), "--url", server.url)
        assert done.returncode == 0, done.stderr
        assert "hf_trainer_state, 10 epochs" in done.stdout
        assert f"{server.url}/runs/" in done.stdout  # the report page to open
        assert "Overfitting" in done.stdout
        runs = httpx.get(f"{server.url}/v1/runs").json()["items"]
        assert [r["name"] for r in runs] == [path.name]
        run_id = runs[0]["id"]
        shown = lossgap("diagnose", run_id, "--json", env={"LOSSGAP_URL": server.url})
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["causes"][0]["id"] == "overfitting"
        gated = lossgap("diagnose", f"{server.url}/runs/{run_id}", "--fail-on", "problem")
        assert gated.returncode == FAIL_EXIT and "overfitting" in gated.stderr
        unknown = lossgap("diagnose", str(uuid.uuid4()), "--url", server.url)
        assert unknown.returncode == 1 and "404" in unknown.stderr
        junk = tmp_path / "junk.txt"
        junk.write_text("no losses in here\n")
        refused = lossgap("import", str(junk), "--url", server.url)
        assert refused.returncode == 1 and "import failed (422: could not tell" in refused.stderr
    finally:
        server.stop()
        wipe(backend)


@pytest.mark.slow
def test_reevaluate_uploads_the_model_and_data_and_shows_what_the_worker_found(backend, tmp_path):
    leaky = leakage(seed=3, epochs=8)
    (tmp_path / "model.pt").write_bytes(leaky.model)
    (tmp_path / "data.npz").write_bytes(leaky.data)
    server = LiveServer(server_env(backend, tmp_path / "server"))
    try:
        run_id = httpx.post(f"{server.url}/v1/runs", json=leaky.history, timeout=30).json()["id"]
        files = ["--model", str(tmp_path / "model.pt"), "--data", str(tmp_path / "data.npz")]
        done = lossgap("reevaluate", f"{server.url}/v1/runs/{run_id}", *files)
        assert done.returncode == 0, done.stderr
        assert f"re-evaluated run {run_id}" in done.stdout and "Likely causes" in done.stdout
        diagnosis = httpx.get(f"{server.url}/v1/runs/{run_id}/diagnosis", timeout=30).json()
        assert diagnosis["causes"][0]["id"] == "data_leakage"
        assert "Validation samples" in done.stdout
        assert [p["source"] for p in httpx.get(f"{server.url}/v1/runs/{run_id}/probes").json()] == [
            "worker"
        ]
        missing = lossgap("reevaluate", "no-such-run", *files, "--url", server.url)
        assert missing.returncode == 1 and "upload of the model failed (404" in missing.stderr
    finally:
        server.stop()
        wipe(backend)
