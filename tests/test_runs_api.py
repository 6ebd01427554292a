"""The runs API as a training script and a person with curl use it (api.md §1, §2)."""

import math

from tests.conftest import post_json

CONTRACT_EXAMPLE = {
    "name": "mlp-digits-dropout",
    "task": "classification",
    "config": {
        "dropout": 0.5,
        "batch_size": 32,
        "learning_rate": 0.001,
        "train_size": 1437,
        "val_size": 360,
    },
    "epochs": [
        {
            "epoch": 1,
            "train_loss": 1.93,
            "val_loss": 1.21,
            "train_accuracy": 0.41,
            "val_accuracy": 0.72,
        },
        {"epoch": 2, "train_loss": 1.10, "val_loss": 0.84},
    ],
    "steps": [{"step": 1, "epoch": 0.022, "train_loss": 2.31}],
}


def create(client, body=None):
    response = post_json(client, "/v1/runs", body or CONTRACT_EXAMPLE)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_contract_example_reads_back_identical(client):
    response = post_json(client, "/v1/runs", CONTRACT_EXAMPLE)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/v1/runs/{created['id']}"
    assert created["epoch_count"] == 2 and created["step_count"] == 1

    stored = client.get(f"/v1/runs/{created['id']}").json()
    for key in ("name", "task", "config", "epochs", "steps"):
        assert stored[key] == CONTRACT_EXAMPLE[key], key
    assert stored["project"] is None


def test_non_finite_values_are_kept_distinct_from_missing(client):
    body = {
        "name": "diverged",
        "epochs": [
            {"epoch": 0, "train_loss": 2.0, "val_loss": 2.1},
            {"epoch": 1, "train_loss": math.nan, "val_loss": math.inf, "grad_norm": -math.inf},
            {"epoch": 2, "train_loss": None, "val_loss": 1.5},
        ],
        "steps": [
            {"step": 0, "train_loss": math.nan},
            {"step": 1, "train_loss": 1.0, "lr": 0.1},
            {"step": 2, "val_loss": 3.0},
        ],
    }
    run_id = create(client, body)
    response = client.get(f"/v1/runs/{run_id}")
    assert b"NaN" in response.content and b"Infinity" in response.content
    stored = response.json()
    epoch1 = stored["epochs"][1]
    assert math.isnan(epoch1["train_loss"])
    assert epoch1["val_loss"] == math.inf and epoch1["grad_norm"] == -math.inf
    # A loss sent as null did not come out a number: stored as NaN, evidence like NaN (api.md
    # §1); a loss left out of a row is simply not there.
    assert set(stored["epochs"][2]) == {"epoch", "train_loss", "val_loss"}
    assert math.isnan(stored["epochs"][2]["train_loss"])
    assert stored["epochs"][2]["val_loss"] == 1.5
    checks = {c["id"]: c for c in client.get(f"/v1/runs/{run_id}/diagnosis").json()["checks"]}
    assert (
        checks["nonfinite"]["detail"] == "4 non-finite loss values (2 train, 1 validation, 1 step)"
    )
    steps = stored["steps"]
    assert math.isnan(steps[0]["train_loss"]) and set(steps[0]) == {"step", "train_loss"}
    assert steps[1] == {"step": 1, "train_loss": 1.0, "lr": 0.1}
    assert steps[2] == {"step": 2, "val_loss": 3.0}


def test_append_adds_rows_and_resending_replaces_them(client):
    run_id = create(client)
    body = {
        "epochs": [{"epoch": 3, "train_loss": 0.9, "val_loss": 0.8}],
        "steps": [{"step": 2, "train_loss": 2.0}, {"step": 3, "train_loss": 1.9}],
    }
    first = post_json(client, f"/v1/runs/{run_id}/epochs", body)
    assert first.status_code == 200, first.text
    assert first.json()["epoch_count"] == 3 and first.json()["step_count"] == 3
    retried = post_json(client, f"/v1/runs/{run_id}/epochs", body)
    assert retried.json()["epoch_count"] == 3 and retried.json()["step_count"] == 3

    corrected = {
        "epochs": [{"epoch": 2, "train_loss": 1.0, "val_loss": 0.7}],
        "steps": [{"step": 1, "train_loss": 2.5}],
    }
    post_json(client, f"/v1/runs/{run_id}/epochs", corrected)
    stored = client.get(f"/v1/runs/{run_id}").json()
    assert [e["epoch"] for e in stored["epochs"]] == [1, 2, 3]
    assert stored["epochs"][1] == {"epoch": 2, "train_loss": 1.0, "val_loss": 0.7}
    assert stored["steps"] == [
        {"step": 1, "train_loss": 2.5},
        {"step": 2, "train_loss": 2.0},
        {"step": 3, "train_loss": 1.9},
    ]
    assert stored["data_version"] == 4


def test_duplicate_numbers_in_one_request_keep_the_last_row(client):
    body = {
        "epochs": [{"epoch": 1, "train_loss": 5.0}, {"epoch": 1, "train_loss": 1.0}],
        "steps": [{"step": 7, "train_loss": 5.0}, {"step": 7, "train_loss": 1.0}],
    }
    stored = client.get(f"/v1/runs/{create(client, body)}").json()
    assert stored["epochs"] == [{"epoch": 1, "train_loss": 1.0}]
    assert stored["steps"] == [{"step": 7, "train_loss": 1.0}]


def test_streamed_steps_are_all_kept_in_order(client):
    run_id = create(client, {"epochs": [{"epoch": 0, "val_loss": 1.0}]})
    for chunk in range(40):
        steps = [
            {"step": chunk * 25 + i, "train_loss": 1.0 / (1 + chunk * 25 + i)} for i in range(25)
        ]
        assert post_json(client, f"/v1/runs/{run_id}/epochs", {"steps": steps}).status_code == 200
    # Re-send an overlapping window in the middle, with changed values.
    window = [{"step": s, "train_loss": -1.0} for s in range(490, 530)]
    assert post_json(client, f"/v1/runs/{run_id}/epochs", {"steps": window}).status_code == 200
    stored = client.get(f"/v1/runs/{run_id}").json()
    steps = stored["steps"]
    assert stored["step_count"] == 1000 == len(steps)
    assert [s["step"] for s in steps] == list(range(1000))
    assert all(s["train_loss"] == -1.0 for s in steps[490:530])
    assert steps[489]["train_loss"] == 1.0 / 490


def test_history_can_be_read_without_steps(client):
    run_id = create(client)
    stored = client.get(f"/v1/runs/{run_id}", params={"include_steps": "false"}).json()
    assert stored["steps"] is None and stored["step_count"] == 1


def test_list_filters_and_paginates_newest_first(client):
    ids = [
        create(client, {**CONTRACT_EXAMPLE, "name": f"run-{i}", "project": "p" if i % 2 else "q"})
        for i in range(5)
    ]
    page = client.get("/v1/runs", params={"limit": 2}).json()
    assert page["total"] == 5 and [r["id"] for r in page["items"]] == ids[::-1][:2]
    second = client.get("/v1/runs", params={"limit": 2, "offset": 2}).json()
    assert [r["id"] for r in second["items"]] == ids[::-1][2:4]
    in_p = client.get("/v1/runs", params={"project": "p"}).json()
    assert in_p["total"] == 2 and {r["name"] for r in in_p["items"]} == {"run-1", "run-3"}
    by_name = client.get("/v1/runs", params={"name": "run-4"}).json()
    assert [r["id"] for r in by_name["items"]] == [ids[4]]
    assert by_name["items"][0]["epoch_count"] == 2 and by_name["items"][0]["step_count"] == 1


def test_delete_removes_the_run_and_its_history(client):
    run_id = create(client)
    assert client.delete(f"/v1/runs/{run_id}").status_code == 204
    assert client.get(f"/v1/runs/{run_id}").status_code == 404
    assert client.delete(f"/v1/runs/{run_id}").status_code == 404
    assert client.get("/v1/runs").json()["total"] == 0


def test_diagnosis_ranks_catalog_causes_and_follows_the_history(client):
    body = {
        "task": "classification",
        "epochs": [
            {
                "epoch": e,
                "train_loss": 2.0 * math.exp(-e / 6) + 0.02,
                "val_loss": 0.45 + 0.0015 * (e - 14) ** 2,
            }
            for e in range(1, 41)
        ],
    }
    run_id = create(client, body)
    diagnosis = client.get(f"/v1/runs/{run_id}/diagnosis").json()
    assert diagnosis["run_id"] == run_id and diagnosis["status"] == "complete"
    causes = diagnosis["causes"]
    assert causes[0]["id"] == "overfitting" and causes[0]["kind"] == "problem"
    confidences = [c["confidence"] for c in causes]
    assert confidences == sorted(confidences, reverse=True)
    assert any("Stop at epoch 14" in a for a in causes[0]["actions"])
    assert {c["id"] for c in diagnosis["checks"]} >= {"gap", "lag", "overfit", "convergence"}
    assert math.isclose(diagnosis["gap"]["best_val_epoch"], 14)
    symptoms = {s["id"]: s for s in diagnosis["symptoms"]}
    assert symptoms["val_rises_after_min"]["present"]
    assert "overfitting" in symptoms["val_rises_after_min"]["explained_by"]
    assert symptoms["val_above_train"]["value"] > 0

    post_json(
        client,
        f"/v1/runs/{run_id}/epochs",
        {"epochs": [{"epoch": 41, "train_loss": 0.01, "val_loss": 3.0}]},
    )
    updated = client.get(f"/v1/runs/{run_id}/diagnosis").json()
    assert updated["gap"]["last_epoch"] == 41


def test_steps_can_be_sent_as_columns_and_read_back_as_rows(client):
    body = {
        "epochs": [{"epoch": 1, "train_loss": 1.0, "val_loss": 0.9}],
        "steps": {"step": [3, 1, 2], "train_loss": [0.3, 0.1, None], "lr": [0.1, 0.1, 0.1]},
    }
    run_id = create(client, body)
    more = {"steps": {"step": [2, 4], "train_loss": [math.nan, 0.4]}}
    assert post_json(client, f"/v1/runs/{run_id}/epochs", more).json()["step_count"] == 4
    steps = client.get(f"/v1/runs/{run_id}").json()["steps"]
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    assert steps[0] == {"step": 1, "train_loss": 0.1, "lr": 0.1}
    assert math.isnan(steps[1]["train_loss"]) and "lr" not in steps[1]
    assert steps[3] == {"step": 4, "train_loss": 0.4}


def test_a_create_with_a_client_chosen_id_can_be_retried_without_duplicating(client):
    run_id = "0b4f9f7e-8f0e-4c1c-9a56-3c1f2f7a9e10"
    body = {
        "id": run_id,
        "name": "retried",
        "epochs": [{"epoch": 1, "train_loss": 1.0, "val_loss": 0.9}],
        "steps": [{"step": 1, "train_loss": 1.1}],
    }
    first = post_json(client, "/v1/runs", body)
    again = post_json(client, "/v1/runs", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] == run_id
    assert again.json()["epoch_count"] == 1 and again.json()["step_count"] == 1
    assert len(client.get("/v1/runs").json()["items"]) == 1
    bad = post_json(client, "/v1/runs", {**body, "id": "not-a-uuid"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "id"


def test_a_run_whose_losses_are_exactly_zero_is_diagnosed(client):
    # A Keras run whose loss underflowed to 0.0 after one epoch once divided by zero.
    epochs = [{"epoch": 1, "train_loss": 0.0037}] + [
        {"epoch": e, "train_loss": 0.0, "val_loss": 0.0} for e in range(2, 11)
    ]
    run_id = create(client, {"name": "zeros", "epochs": epochs})
    response = client.get(f"/v1/runs/{run_id}/diagnosis")
    assert response.status_code == 200, response.text
    assert response.json()["summary"]


def test_a_run_logged_without_validation_is_diagnosed_from_its_training_curve(client):
    epochs = [{"epoch": e, "train_loss": None, "train_accuracy": 0.1} for e in range(1, 21)]
    run_id = create(client, {"name": "diverged-no-val", "epochs": epochs})
    diagnosis = client.get(f"/v1/runs/{run_id}/diagnosis").json()
    assert diagnosis["summary"].startswith("Fewer than two epochs have a validation loss")
    assert diagnosis["causes"][0]["id"] == "numerical_instability"
