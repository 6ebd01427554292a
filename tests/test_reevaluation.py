"""Re-evaluation through the API with an in-process worker: jobs, errors, probe reports."""

import io
import time
import zipfile

import numpy as np
import pytest
import torch
from lossgap_client.probe_report import STORED, ProbeReport

from app.analysis.probe import read as probe_of
from app.jobs import service as jobs
from app.reevaluations.params import ReevaluationParams
from tests.conftest import post_json
from tests.planted import blobs, leakage, npz_bytes, script_bytes
from workers import consumer as consumers
from workers.handlers import HANDLERS


def wait_for_job(client, job_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.fixture
def worker(client):
    """A consumer on the queue the API enqueues to, in this process."""
    settings = client.app.state.settings
    runner = consumers.build(settings, settings.reeval_queue, HANDLERS)
    consumer = consumers.consumer(runner, 2, embedded=True)
    consumer.start()
    yield runner
    consumer.stop(graceful=True)
    runner.queue.huey.flush()
    runner.sessions.kw["bind"].dispose()


def upload(client, run_id, kind, content):
    response = client.post(
        f"/v1/runs/{run_id}/artifacts",
        data={"kind": kind},
        files={"file": (f"{kind}.bin", content, "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    return response.json()


def start(client, run_id, **body):
    return post_json(client, f"/v1/runs/{run_id}/reevaluations", {"loss": "cross_entropy", **body})


@pytest.fixture(scope="module")
def leaky():
    return leakage(seed=1)


def test_a_leaky_split_is_found_and_settles_the_diagnosis(client, worker, leaky):
    run_id = post_json(client, "/v1/runs", leaky.history).json()["id"]
    upload(client, run_id, "model", leaky.model)
    upload(client, run_id, "data", leaky.data)
    started = start(client, run_id)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    job = wait_for_job(client, started.json()["job_id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0 and job["result"]["device"] == "cpu"
    assert job["stage"] == "storing the report"  # its last stage
    probes = client.get(f"/v1/runs/{run_id}/probes").json()
    assert len(probes) == 1 and probes[0]["source"] == "worker"
    report = probes[0]["report"]
    assert report["leakage"]["exact_duplicates"] == report["n_val"] == 200
    diagnosis = client.get(f"/v1/runs/{run_id}/diagnosis").json()
    assert diagnosis["status"] == "complete"
    assert diagnosis["causes"][0]["id"] == "data_leakage"
    leak = next(c for c in diagnosis["checks"] if c["id"] == "reeval_leakage")
    assert leak["status"] == "flagged" and "200 of 200" in leak["detail"]


def test_the_diagnosis_is_pending_while_a_job_is_queued_and_a_retry_does_not_duplicate_it(
    client, leaky
):
    run_id = post_json(client, "/v1/runs", leaky.history).json()["id"]
    upload(client, run_id, "model", leaky.model)
    upload(client, run_id, "data", leaky.data)
    first, second = start(client, run_id), start(client, run_id)
    assert first.json()["job_id"] == second.json()["job_id"]
    assert client.get(f"/v1/runs/{run_id}/diagnosis").json()["status"] == "pending"
    other = start(client, run_id, label_smoothing=0.1)
    assert other.json()["job_id"] != first.json()["job_id"]
    client.app.state.queue.huey.flush()


def test_a_reevaluation_needs_both_artifacts(client):
    run_id = post_json(client, "/v1/runs", leakage_history()).json()["id"]
    response = start(client, run_id)
    assert response.status_code == 409
    assert "no model and no data artifact" in response.json()["error"]["message"]
    assert start(client, "missing-run").status_code == 404
    bad = post_json(client, f"/v1/runs/{run_id}/reevaluations", {"loss": "hinge"})
    assert bad.status_code == 422 and "loss" in bad.json()["error"]["message"]


def leakage_history(config=None):
    return {
        "name": "r",
        "task": "classification",
        "config": config or {},
        "epochs": [
            {"epoch": 1, "train_loss": 1.2, "val_loss": 1.0},
            {"epoch": 2, "train_loss": 0.9, "val_loss": 0.8},
        ],
    }


def failed_job(client, model: bytes, data: bytes, **body) -> str:
    run_id = post_json(client, "/v1/runs", leakage_history()).json()["id"]
    upload(client, run_id, "model", model)
    upload(client, run_id, "data", data)
    response = start(client, run_id, **body)
    job = wait_for_job(client, response.json()["job_id"])
    assert job["status"] == "failed"
    assert client.get(f"/v1/runs/{run_id}/diagnosis").json()["status"] == "complete"
    return job["error"]


def small_data(d=5, classes=3, n=60):
    x, y = blobs(n, d, classes, 0)
    return npz_bytes(x_train=x[:40], y_train=y[:40], x_val=x[40:], y_val=y[40:])


def test_a_corrupt_model_fails_its_job_with_a_readable_error(client, worker):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model/code/__torch__/m.py", "garbage")
        archive.writestr("model/constants.pkl", b"\x80\x02garbage")
        archive.writestr("model/data.pkl", b"not a pickle")
    error = failed_job(client, buffer.getvalue(), small_data())
    assert error.startswith("The model could not be loaded as TorchScript")


def test_labels_beyond_the_models_outputs_fail_the_job(client, worker):
    model = script_bytes(torch.nn.Sequential(torch.nn.Linear(5, 3)))
    error = failed_job(client, model, small_data(classes=6))
    assert "Labels out of range" in error and "model outputs 3 classes" in error


def test_inputs_the_model_cannot_take_fail_the_job(client, worker):
    model = script_bytes(torch.nn.Sequential(torch.nn.Linear(7, 3)))
    error = failed_job(client, model, small_data(d=5))
    assert "rejected inputs of shape (2, 5)" in error


def test_a_job_past_its_timeout_fails(client, leaky, monkeypatch):
    settings = client.app.state.settings
    slow = settings.model_copy(update={"job_timeout_seconds": 0.01})
    runner = consumers.build(slow, slow.reeval_queue, HANDLERS)
    consumer = consumers.consumer(runner, 1, embedded=True)
    consumer.start()
    try:
        run_id = post_json(client, "/v1/runs", leaky.history).json()["id"]
        upload(client, run_id, "model", leaky.model)
        upload(client, run_id, "data", leaky.data)
        job = wait_for_job(client, start(client, run_id).json()["job_id"])
    finally:
        consumer.stop(graceful=True)
        runner.sessions.kw["bind"].dispose()
    assert job["status"] == "failed" and "timed out after 0.01 s" in job["error"]
    assert client.get(f"/v1/runs/{run_id}/probes").json() == []


def test_train_mode_passes_leave_the_model_untouched():
    from lossgap_client.probe.losses import criterion
    from lossgap_client.probe.passes import score

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2)
    )
    model.eval()
    scripted = torch.jit.script(model)
    before = {k: v.clone() for k, v in scripted.state_dict().items()}
    x = np.random.default_rng(0).normal(3, 2, (64, 4)).astype(np.float32)
    y = np.zeros(64, dtype=np.int64)
    train = score(scripted, x, y, criterion("cross_entropy"), torch.device("cpu"), 16, "train")
    evaluated = score(scripted, x, y, criterion("cross_entropy"), torch.device("cpu"), 16)
    assert len(train.losses) == len(evaluated.losses) == 64
    assert not np.allclose(train.losses, evaluated.losses)  # dropout and batch statistics act
    for key, value in scripted.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not scripted.training


def client_report(leakage: dict, **fields) -> dict:
    """A client's probe report on 500 training and 200 validation samples that score alike."""
    return {
        "loss": "cross_entropy",
        "n_train": 500,
        "n_val": 200,
        "passes": {
            "train_eval": {"mean": 0.05, "se": 0.01, "n": 500},
            "val_eval": {"mean": 0.05, "se": 0.01, "n": 200},
        },
        "decomposition": {"eval_gap": {"value": 0.0, "ci_low": -0.03, "ci_high": 0.03}},
        "leakage": {"threshold": 0.995, **leakage},
        **fields,
    }


def test_a_posted_probe_report_is_validated_and_used(client, leaky):
    run_id = post_json(client, "/v1/runs", leaky.history).json()["id"]
    bad = post_json(client, f"/v1/runs/{run_id}/probes", {"loss": "cross_entropy", "n_train": 3})
    assert bad.status_code == 422
    assert "n_val" in bad.json()["error"]["message"] and "passes" in bad.json()["error"]["message"]
    before = client.get(f"/v1/runs/{run_id}/diagnosis").json()
    leak = next(c for c in before["checks"] if c["id"] == "reeval_leakage")
    assert leak["status"] == "skipped"
    report = client_report(
        {"exact_duplicates": 200, "near_duplicates": 200, "leaked_fraction": 1.0},
        task="classification",
    )
    posted = post_json(client, f"/v1/runs/{run_id}/probes", report)
    assert posted.status_code == 201, posted.text
    assert posted.json()["source"] == "client"
    after = client.get(f"/v1/runs/{run_id}/diagnosis").json()
    leak = next(c for c in after["checks"] if c["id"] == "reeval_leakage")
    assert leak["status"] == "flagged"
    assert after["causes"][0]["id"] == "data_leakage"


def test_a_probe_report_counting_more_copies_than_samples_is_refused(client, leaky):
    """Found by the stateful fuzzing: 201 copies among 200 validation samples reached Fisher's
    test as a negative count and answered 500 on every later read of the diagnosis."""
    run_id = post_json(client, "/v1/runs", leaky.history).json()["id"]
    report = client_report(
        {
            "exact_duplicates": 0,
            "near_duplicates": 201,
            "leaked_fraction": 1.0,
            "chance_fraction": 0.0,
            "chance_sample": 100,
        }
    )
    refused = post_json(client, f"/v1/runs/{run_id}/probes", report)
    assert refused.status_code == 422
    assert "n_val (200)" in refused.json()["error"]["message"]
    report["leakage"] |= {"near_duplicates": 20, "chance_sample": 501}
    refused = post_json(client, f"/v1/runs/{run_id}/probes", report)
    assert refused.status_code == 422
    assert "n_train (500)" in refused.json()["error"]["message"]
    assert client.get(f"/v1/runs/{run_id}/probes").json() == []
    # A report stored before the check still reads, and the analysis bounds its counts.
    stored = ProbeReport.model_validate(
        client_report(
            {
                "near_duplicates": 201,
                "exact_duplicates": 0,
                "leaked_fraction": 1.0,
                "chance_fraction": 0.0,
                "chance_sample": 100,
            }
        ),
        context=STORED,
    )
    probe = probe_of(stored)
    assert probe is not None and probe.copies_beyond_chance()[1] is not None
    report["leakage"]["chance_sample"] = 500
    assert post_json(client, f"/v1/runs/{run_id}/probes", report).status_code == 201
    assert client.get(f"/v1/runs/{run_id}/diagnosis").status_code == 200


def test_a_job_carries_its_parameters_as_the_one_typed_record_both_ends_read(client, worker, leaky):
    run_id = post_json(client, "/v1/runs", leaky.history).json()["id"]
    upload(client, run_id, "model", leaky.model)
    upload(client, run_id, "data", leaky.data)
    job = client.get(f"/v1/jobs/{start(client, run_id).json()['job_id']}").json()
    params = ReevaluationParams.model_validate(job["params"])
    assert params.loss == "cross_entropy" and params.device == "auto"
    assert wait_for_job(client, job["id"])["status"] == "succeeded"


def test_a_job_whose_parameters_are_not_a_reevaluations_fails_with_what_to_do(client, worker):
    body = {"name": "odd", "epochs": [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1}]}
    run_id = post_json(client, "/v1/runs", body).json()["id"]
    state = client.app.state
    with state.sessionmaker() as session, session.begin():
        job = jobs.create_job(
            session,
            state.queue,
            run_id=run_id,
            kind="reevaluate",
            params={"loss": "cross_entropy", "model": "written by another version"},
            max_attempts=1,
        )
        job_id = job.id
    failed = wait_for_job(client, job_id)
    assert failed["status"] == "failed"
    assert "not those of a re-evaluation" in failed["error"]
    assert "POST /v1/runs/{id}/reevaluations" in failed["error"]
