"""The training-script examples of docs/client.md, run as a user runs them against a server.

Each file in `clients/python/examples/` is also in the guide word for word (so the guide
cannot drift from what is run here); each trains for real, reports to the server named by
`LOSSGAP_URL` and prints the diagnosis when training ends.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, server_env

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "clients" / "python" / "examples"
# file → the run name it reports under
SCRIPTS = {
    "plain_loop.py": "plain-loop-example",
    "keras_fit.py": "keras-example",
    "lightning_fit.py": "lightning-example",
    "hf_trainer.py": "hf-trainer-example",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(server_env({"url": None}, tmp_path_factory.mktemp("examples")))
    yield live
    live.stop()


def test_every_example_is_in_the_client_guide_as_it_is_run():
    readme = (ROOT / "docs" / "client.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(SCRIPTS)
    for name in SCRIPTS:
        assert (EXAMPLES / name).read_text() in blocks, f"{name} differs from docs/client.md"


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_the_example_reports_its_training_and_prints_the_diagnosis(server, tmp_path, script):
    env = {
        **os.environ,
        "LOSSGAP_URL": server.url,
        "LOSSGAP_SPOOL": str(tmp_path / "spool"),
        "KERAS_BACKEND": "torch",
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = next(line for line in result.stdout.splitlines() if line.startswith("lossgap: "))
    assert "could not be reached" not in summary

    name = SCRIPTS[script]
    runs = httpx.get(f"{server.url}/v1/runs", params={"name": name}, timeout=30).json()["items"]
    (run,) = [r for r in runs if r["name"] == name]
    stored = httpx.get(f"{server.url}/v1/runs/{run['id']}", timeout=30).json()
    assert [e["epoch"] for e in stored["epochs"]] == list(range(1, 21))
    assert all(e["val_loss"] > 0 and e["train_loss"] > 0 for e in stored["epochs"])
    assert len(stored["steps"]) == 20 * 20  # 1,000 samples in batches of 50
    assert stored["config"]["dropout"] == 0.5
    diagnosis = httpx.get(f"{server.url}/v1/runs/{run['id']}/diagnosis", timeout=30).json()
    assert summary == f"lossgap: {diagnosis['summary']}"
    assert f"  report: {server.url}/runs/{run['id']}" in result.stdout.splitlines()
    assert not list((tmp_path / "spool").glob("*.json")), "rows were left unsent"


def test_the_guide_probe_snippet_attaches_a_report_from_inside_the_plain_loop(server, tmp_path):
    readme = (ROOT / "docs" / "client.md").read_text()
    (snippet,) = [
        b
        for b in re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
        if b.startswith("from lossgap_client.probe import probe")
    ]
    imports = "from torch.utils.data import DataLoader, TensorDataset\n"
    body = "".join(f"    {line}\n" for line in snippet.splitlines())
    script = tmp_path / "probe_example.py"
    source = (EXAMPLES / "plain_loop.py").read_text().replace("plain-loop-example", "probed")
    script.write_text(imports + source + body)
    env = {**os.environ, "LOSSGAP_URL": server.url, "LOSSGAP_SPOOL": str(tmp_path / "spool")}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = httpx.get(f"{server.url}/v1/runs", params={"name": "probed"}, timeout=30).json()
    (run,) = runs["items"]
    (probe,) = httpx.get(f"{server.url}/v1/runs/{run['id']}/probes", timeout=30).json()
    assert probe["source"] == "client" and probe["report"]["batch_size"] == 50
    assert probe["report"]["passes"]["train_eval"]["n"] == 1000
