"""A training script that uses Weights & Biases gets lossgap's verdict in its W&B run's summary
(W&B in offline mode: the run is written to disk, as `wandb sync` would upload it)."""

import json

import httpx
import pytest
from lossgap_client import Tracker

pytestmark = pytest.mark.slow


def overfitting_history():
    for epoch in range(1, 31):
        yield epoch, 2.0 * 0.85**epoch + 0.05, 1.0 + 0.02 * (epoch - 12) ** 2 / 10


def test_the_verdict_and_top_causes_land_in_the_wandb_run_summary(
    live_server, tmp_path, monkeypatch
):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("LOSSGAP_SPOOL", str(tmp_path / "spool"))
    import wandb

    run = wandb.init(project="lossgap-tests", dir=str(tmp_path))
    try:
        with Tracker("wandb-user", url=live_server.url, task="classification") as tracker:
            for epoch, train, val in overfitting_history():
                tracker.epoch(val, train, epoch=epoch)
        summary = {k: run.summary[k] for k in dict(run.summary) if k.startswith("lossgap/")}
        log_file = next((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))
    finally:
        run.finish()
    diagnosis = httpx.get(f"{live_server.url}/v1/runs/{tracker.id}/diagnosis").json()
    top = diagnosis["causes"][0]
    assert summary["lossgap/summary"] == diagnosis["summary"]
    assert summary[f"lossgap/confidence/{top['id']}"] == pytest.approx(top["confidence"])
    assert summary["lossgap/verdict"].startswith("problem: overfitting")
    assert summary["lossgap/run"] == f"{live_server.url}/runs/{tracker.id}"  # the report page
    synced = log_file.read_bytes()  # what `wandb sync` uploads: the summary records included
    assert (
        b"lossgap/verdict" in synced and json.dumps(summary["lossgap/verdict"]).encode() in synced
    )


def test_without_a_wandb_run_nothing_is_written(monkeypatch):
    from lossgap_client.wandb_summary import to_wandb

    monkeypatch.delitem(__import__("sys").modules, "wandb", raising=False)
    assert to_wandb({"causes": []}, "http://x") is False
