"""Import a run from a real MLflow tracking server (`mlflow server`, started by the tests) and
write lossgap's answer back into it."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.imports import mlflow_server
from tests.conftest import LiveServer, free_port, lossgap, make_settings, server_env

pytestmark = pytest.mark.slow
EPOCHS = 20


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """`mlflow server` on SQLite, and one run logged through MLflow's own client."""
    tmp = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    log = open(tmp / "server.log", "w+")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp / 'mlflow.db'}",
            "--artifacts-destination",
            str(tmp / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{uri}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"mlflow server did not start: {log.read()[-2000:]}")
            time.sleep(0.5)
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient

        client = MlflowClient(uri)
        experiment = client.create_experiment("lossgap-tests")
        run = client.create_run(experiment, run_name="skorch-mlp")
        now = int(time.time() * 1000)
        metrics = []
        for step in range(EPOCHS):
            metrics += [
                Metric("train_loss", 2.0 / (step + 1), now, step),
                Metric("valid_loss", 1.5 / (step + 1) + 0.01 * step, now, step),
                Metric("val/acc", 0.5 + 0.02 * step, now, step),
            ]
        params = [Param("lr", "0.01"), Param("batch_size", "64"), Param("dropout", "0.3")]
        client.log_batch(run.info.run_id, metrics=metrics, params=params)
        client.set_terminated(run.info.run_id)
        yield {"uri": uri, "run_id": run.info.run_id, "experiment": experiment, "tmp": tmp}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def ui_address(tracking):
    return f"{tracking['uri']}/#/experiments/{tracking['experiment']}/runs/{tracking['run_id']}"


def test_a_run_imports_from_its_ui_address(client, tracking):
    response = client.post("/v1/imports/mlflow", json={"run": ui_address(tracking)})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["format"] == "mlflow_run" and created["name"] == "skorch-mlp"
    assert created["epoch_count"] == EPOCHS
    assert created["mapping"] == {
        "train_loss": "train_loss",
        "val_loss": "valid_loss",
        "val_accuracy": "val/acc",
    }
    run = client.get(f"/v1/runs/{created['id']}").json()
    assert [r["epoch"] for r in run["epochs"]] == list(range(1, EPOCHS + 1))  # steps from 0
    assert run["epochs"][3]["val_loss"] == pytest.approx(1.5 / 4 + 0.03)
    assert run["epochs"][-1]["val_accuracy"] == pytest.approx(0.5 + 0.02 * (EPOCHS - 1))
    assert run["config"] == {"learning_rate": 0.01, "batch_size": 64, "dropout": 0.3}
    assert client.get(f"/v1/runs/{created['id']}/diagnosis").status_code == 200


def test_a_run_id_with_the_tracking_uri_and_overrides(client, tracking):
    body = {
        "run": f"runs:/{tracking['run_id']}",
        "tracking_uri": tracking["uri"],
        "name": "renamed",
        "config": {"dropout": 0.5},
        "mapping": {"val_loss": "train_loss", "train_loss": "valid_loss"},
    }
    created = client.post("/v1/imports/mlflow", json=body).json()
    assert created["name"] == "renamed"
    run = client.get(f"/v1/runs/{created['id']}").json()
    assert run["config"]["dropout"] == 0.5
    assert run["epochs"][0]["val_loss"] == pytest.approx(2.0)


def test_long_histories_are_read_page_by_page(tracking):
    ref = mlflow_server.reference(ui_address(tracking))
    parsed, _ = mlflow_server.fetch(ref, page_size=7)
    assert [r["train_loss"] for r in parsed.epochs] == pytest.approx(
        [2.0 / (s + 1) for s in range(EPOCHS)]
    )


def test_a_history_longer_than_a_run_may_hold_is_refused_not_cut(tracking):
    ref = mlflow_server.reference(ui_address(tracking))
    with pytest.raises(mlflow_server.UpstreamError, match="more than 12 steps") as caught:
        mlflow_server.fetch(ref, max_points=12, page_size=5)
    assert caught.value.user_error


def test_what_cannot_be_fetched_is_a_clear_error_and_stores_nothing(client, tracking):
    cases = [
        ({"run": "f" * 32, "tracking_uri": tracking["uri"]}, 422, "not found"),
        ({"run": "f" * 32}, 422, "without a server"),
        ({"run": "my-run"}, 422, "does not name an MLflow run"),
        (
            {
                "run": f"runs:/{tracking['run_id']}",
                "tracking_uri": f"http://127.0.0.1:{free_port()}",
            },
            502,
            "could not be reached",
        ),
    ]
    for body, status, message in cases:
        response = client.post("/v1/imports/mlflow", json=body)
        assert response.status_code == status, response.text
        assert message in response.json()["error"]["message"]
    assert client.get("/v1/runs").json()["total"] == 0


def test_only_allowed_hosts_are_fetched_from(backend, tracking):
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings = make_settings(
        backend["name"], backend["tmp"], backend["url"], mlflow_allowed_hosts="mlflow.internal"
    )
    with TestClient(create_app(settings)) as restricted:
        response = restricted.post("/v1/imports/mlflow", json={"run": ui_address(tracking)})
    assert response.status_code == 422
    assert "LOSSGAP_MLFLOW_ALLOWED_HOSTS" in response.json()["error"]["message"]


def test_lossgap_diagnose_reads_a_run_from_the_tracking_server(tracking):
    env = {"MLFLOW_TRACKING_URI": tracking["uri"]}
    result = lossgap("diagnose", f"runs:/{tracking['run_id']}", "--json", env=env)
    assert result.returncode == 0, result.stderr
    diagnosis = json.loads(result.stdout)
    assert diagnosis["status"] == "complete" and diagnosis["causes"]


def test_lossgap_import_has_the_server_fetch_an_mlflow_run(tracking, tmp_path):
    live = LiveServer(server_env({"url": None}, tmp_path))
    try:
        result = lossgap("import", ui_address(tracking), "--url", live.url)
        assert result.returncode == 0, result.stderr
        assert f"(mlflow_run, {EPOCHS} epochs)" in result.stdout
        assert f"pulled from {tracking['uri']}, run {tracking['run_id']}" in result.stdout
        runs = httpx.get(f"{live.url}/v1/runs", timeout=30).json()["items"]
        assert [r["name"] for r in runs] == ["skorch-mlp"]
    finally:
        live.stop()


def test_write_back_puts_the_verdict_and_the_report_into_the_mlflow_run(client, tracking):
    from mlflow.tracking import MlflowClient

    created = client.post("/v1/imports/mlflow", json={"run": ui_address(tracking)}).json()
    diagnosis = client.get(f"/v1/runs/{created['id']}/diagnosis").json()
    response = client.post(
        f"/v1/runs/{created['id']}/writeback/mlflow", json={"run": ui_address(tracking)}
    )
    assert response.status_code == 200, response.text
    written = response.json()
    assert written["artifacts"] == ["lossgap/diagnosis.json", "lossgap/curves.png"]
    mlflow = MlflowClient(tracking["uri"])
    tags = mlflow.get_run(tracking["run_id"]).data.tags
    top = diagnosis["causes"][0]
    assert tags["lossgap.summary"] == diagnosis["summary"]
    kind, named = re.fullmatch(r"(\w+): (\w+) \([\d.]+\)", tags["lossgap.verdict"]).groups()
    verdict_cause = next(c for c in diagnosis["causes"] if c["id"] == named)
    assert verdict_cause["kind"] == kind and verdict_cause["confidence"] >= 0.5
    assert top["id"] in tags["lossgap.causes"]
    assert float(tags[f"lossgap.confidence.{top['id']}"]) == pytest.approx(
        top["confidence"], abs=1e-3
    )
    assert tags["lossgap.run"].endswith(f"/runs/{created['id']}")
    stored = {a.path for a in mlflow.list_artifacts(tracking["run_id"], "lossgap")}
    assert stored == {"lossgap/diagnosis.json", "lossgap/curves.png"}
    folder = tracking["tmp"] / "download"
    report = mlflow.download_artifacts(tracking["run_id"], "lossgap/diagnosis.json", str(folder))
    assert json.loads(Path(report).read_text())["summary"] == diagnosis["summary"]
    png = mlflow.download_artifacts(tracking["run_id"], "lossgap/curves.png", str(folder))
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_back_to_a_run_whose_artifacts_the_server_does_not_serve_writes_tags(
    client, tracking
):
    from mlflow.tracking import MlflowClient

    mlflow = MlflowClient(tracking["uri"])
    experiment = mlflow.create_experiment(
        "local-artifacts", artifact_location=str(tracking["tmp"] / "elsewhere")
    )
    run = mlflow.create_run(experiment)
    created = client.post("/v1/imports/mlflow", json={"run": ui_address(tracking)}).json()
    response = client.post(
        f"/v1/runs/{created['id']}/writeback/mlflow",
        json={"run": run.info.run_id, "tracking_uri": tracking["uri"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["artifacts"] == []
    assert "--serve-artifacts" in response.json()["notes"][0]
    assert "lossgap.verdict" in mlflow.get_run(run.info.run_id).data.tags


def test_write_back_errors_name_what_is_wrong(client, tracking):
    created = client.post("/v1/imports/mlflow", json={"run": ui_address(tracking)}).json()
    unknown = client.post(
        f"/v1/runs/{created['id']}/writeback/mlflow",
        json={"run": "0" * 32, "tracking_uri": tracking["uri"]},
    )
    assert unknown.status_code == 422 and "0" * 32 in unknown.json()["error"]["message"]
    no_run = client.post("/v1/runs/nope/writeback/mlflow", json={"run": ui_address(tracking)})
    assert no_run.status_code == 404


def test_lossgap_import_write_back_from_the_command_line(tracking, tmp_path):
    from mlflow.tracking import MlflowClient

    live = LiveServer(server_env({"url": None}, tmp_path))
    try:
        result = lossgap("import", ui_address(tracking), "--url", live.url, "--write-back")
    finally:
        live.stop()
    assert result.returncode == 0, result.stderr
    assert "lossgap/diagnosis.json, lossgap/curves.png" in result.stdout
    tags = MlflowClient(tracking["uri"]).get_run(tracking["run_id"]).data.tags
    assert tags["lossgap.verdict"]
    refused = lossgap("import", str(tmp_path), "--write-back")
    assert refused.returncode == 2 and "MLflow run" in refused.stderr


def test_lossgap_diagnose_writes_back_to_the_mlflow_run_from_this_machine(tracking):
    from mlflow.tracking import MlflowClient

    env = {"MLFLOW_TRACKING_URI": tracking["uri"]}
    result = lossgap("diagnose", f"runs:/{tracking['run_id']}", "--write-back", env=env)
    assert result.returncode == 0, result.stderr
    assert "lossgap/diagnosis.json, lossgap/curves.png" in result.stdout
    tags = MlflowClient(tracking["uri"]).get_run(tracking["run_id"]).data.tags
    assert tags["lossgap.verdict"] and tags["lossgap.causes"]
