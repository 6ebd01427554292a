"""The error contract: every bad input gets a 4xx JSON error naming what is wrong, and a failed
request changes nothing stored."""

import json

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import make_settings, post_json
from tests.test_runs_api import create


def assert_error(response, status, code, *fragments):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    for fragment in fragments:
        assert fragment in error["message"], error["message"]
    return error


def test_malformed_json_is_a_400(client):
    response = client.post(
        "/v1/runs", content=b'{"epochs": [', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_json", "not valid JSON")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"epochs": [{"epoch": "one", "train_loss": 1.0}]}, "epochs[0].epoch"),
        ({"epochs": [{"epoch": 1, "train_loss": "1.5"}]}, "epochs[0].train_loss"),
        (
            {"epochs": [{"epoch": 1, "train_loss": 1.0, "val_accuracy": True}]},
            "epochs[0].val_accuracy",
        ),
        ({"epochs": [{"epoch": 1, "train_loss": 1.0}, {"epoch": 2}]}, "epochs[1]"),
        ({"epochs": [{"epoch": -1, "train_loss": 1.0}]}, "epochs[0].epoch"),
        ({"epochs": [{"train_loss": 1.0}]}, "epochs[0].epoch"),
        ({"epochs": []}, "epochs"),
        ({"name": "x"}, "epochs"),
        ({"epochs": [{"epoch": 1, "train_loss": 1}], "task": "vision"}, "task"),
        ({"epochs": [{"epoch": 1, "train_loss": 1}], "epoch": []}, "epoch"),
        ({"epochs": [{"epoch": 1, "train_loss": 1}], "config": [1, 2]}, "config"),
        (
            {"epochs": [{"epoch": 1, "train_loss": 1}], "steps": [{"step": 1, "train_loss": [1]}]},
            "steps[0].train_loss",
        ),
        ({"epochs": "many"}, "epochs"),
        ([1, 2, 3], "body"),
    ],
)
def test_wrong_shapes_and_types_name_the_field(client, body, field):
    error = assert_error(post_json(client, "/v1/runs", body), 422, "validation_error", field)
    assert any(f["field"] == field for f in error["fields"])


def test_nan_epoch_number_is_rejected(client):
    body = '{"epochs": [{"epoch": NaN, "train_loss": 1.0}]}'
    response = client.post("/v1/runs", content=body, headers={"content-type": "application/json"})
    assert_error(response, 422, "validation_error", "epochs[0].epoch")


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        ([{"step": 1.5, "train_loss": 1.0}], "steps[0].step"),
        ([{"step": 1, "train_loss": 1.0}, {"step": -3, "train_loss": 1.0}], "steps[1].step"),
        ([{"step": 1, "train_loss": 1.0}, {"train_loss": 1.0}], "steps[1].step"),
        ([{"step": 1, "train_loss": 1.0}, {"step": 2, "lr": 0.1}], "steps[1]"),
        ([{"step": float("inf"), "train_loss": 1.0}], "steps[0].step"),
        ([{"step": 2**60, "train_loss": 1.0}], "steps[0].step"),
    ],
)
def test_bad_step_rows_are_rejected_with_their_index(client, steps, fragment):
    body = {"epochs": [{"epoch": 1, "train_loss": 1.0}], "steps": steps}
    assert_error(post_json(client, "/v1/runs", body), 422, "invalid_input", fragment)
    assert client.get("/v1/runs").json()["total"] == 0


def test_unknown_run_is_a_404_on_every_route(client):
    missing = "00000000-0000-0000-0000-000000000000"
    assert_error(client.get(f"/v1/runs/{missing}"), 404, "not_found", missing)
    assert_error(client.get(f"/v1/runs/{missing}/diagnosis"), 404, "not_found")
    assert_error(client.delete(f"/v1/runs/{missing}"), 404, "not_found")
    append = post_json(
        client, f"/v1/runs/{missing}/epochs", {"epochs": [{"epoch": 1, "val_loss": 1}]}
    )
    assert_error(append, 404, "not_found")


def test_unknown_route_and_wrong_method_use_the_error_shape(client):
    assert_error(client.get("/v1/nothing"), 404, "not_found", "/docs")
    assert_error(client.put("/v1/runs"), 405, "method_not_allowed")


def test_empty_append_is_rejected(client):
    run_id = create(client)
    response = post_json(client, f"/v1/runs/{run_id}/epochs", {"epochs": [], "steps": []})
    assert_error(response, 422, "validation_error", "at least one row")


def test_a_failed_append_changes_nothing(client):
    run_id = create(client)
    before = client.get(f"/v1/runs/{run_id}").json()
    bad = {
        "epochs": [{"epoch": 9, "train_loss": 0.1}],
        "steps": [{"step": 5, "train_loss": 1.0}, {"step": 0.5, "train_loss": 1.0}],
    }
    assert post_json(client, f"/v1/runs/{run_id}/epochs", bad).status_code == 422
    assert client.get(f"/v1/runs/{run_id}").json() == before


@pytest.fixture
def small_limits_client(backend, tmp_path):
    settings: Settings = make_settings(
        backend["name"],
        tmp_path,
        backend["url"],
        max_body_bytes=20_000,
        max_epochs_per_run=5,
        max_steps_per_request=50,
        max_steps_per_run=80,
        max_config_bytes=100,
        max_metrics_per_row=6,
    )
    with TestClient(create_app(settings)) as client:
        yield client
    from tests.conftest import empty_tables

    empty_tables(client)


def test_huge_body_is_refused_before_it_is_read(small_limits_client):
    body = json.dumps({"epochs": [{"epoch": i, "train_loss": 1.0} for i in range(2000)]})
    response = small_limits_client.post(
        "/v1/runs", content=body, headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "too_large", "LOSSGAP_MAX_BODY_BYTES")

    def chunks():  # no Content-Length: the limit must hold on a streamed body too
        for _ in range(100):
            yield b" " * 1000

    streamed = small_limits_client.post(
        "/v1/runs", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(streamed, 413, "too_large")
    assert small_limits_client.get("/v1/runs").json()["total"] == 0


def test_row_and_size_limits_are_settings(small_limits_client):
    c = small_limits_client
    epochs = [{"epoch": i, "train_loss": 1.0} for i in range(6)]
    assert_error(
        post_json(c, "/v1/runs", {"epochs": epochs}), 413, "too_large", "LOSSGAP_MAX_EPOCHS_PER_RUN"
    )
    big_config = {"epochs": epochs[:1], "config": {"notes": "x" * 200}}
    assert_error(post_json(c, "/v1/runs", big_config), 413, "too_large", "LOSSGAP_MAX_CONFIG_BYTES")
    steps = [{"step": i, "train_loss": 1.0} for i in range(51)]
    assert_error(
        post_json(c, "/v1/runs", {"epochs": epochs[:1], "steps": steps}),
        413,
        "too_large",
        "LOSSGAP_MAX_STEPS_PER_REQUEST",
    )
    wide = {"epoch": 1, "train_loss": 1.0, **{f"m{i}": 1.0 for i in range(8)}}
    assert_error(
        post_json(c, "/v1/runs", {"epochs": [wide]}),
        422,
        "invalid_input",
        "LOSSGAP_MAX_METRICS_PER_ROW",
    )

    run_id = post_json(c, "/v1/runs", {"epochs": epochs[:4]}).json()["id"]
    more = {"epochs": [{"epoch": 10, "val_loss": 1.0}, {"epoch": 11, "val_loss": 1.0}]}
    assert_error(
        post_json(c, f"/v1/runs/{run_id}/epochs", more),
        413,
        "too_large",
        "LOSSGAP_MAX_EPOCHS_PER_RUN",
    )
    for start in (0, 40):
        batch = [{"step": start + i, "train_loss": 1.0} for i in range(40)]
        assert post_json(c, f"/v1/runs/{run_id}/epochs", {"steps": batch}).status_code == 200
    one_more = {"steps": [{"step": 1000, "train_loss": 1.0}]}
    assert_error(
        post_json(c, f"/v1/runs/{run_id}/epochs", one_more),
        413,
        "too_large",
        "LOSSGAP_MAX_STEPS_PER_RUN",
    )
    stored = c.get(f"/v1/runs/{run_id}").json()
    assert stored["epoch_count"] == 4 and stored["step_count"] == 80


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        ({"train_loss": [1.0]}, "steps.step"),
        ({"step": [1, 2], "train_loss": [1.0]}, "steps.train_loss: 1 values"),
        ({"step": [1, None], "train_loss": [1.0, 2.0]}, "steps.step[1]"),
        ({"step": [1, 2.5], "train_loss": [1.0, 2.0]}, "steps.step[1]"),
        ({"step": [1], "lr": [0.1]}, "train_loss"),
    ],
)
def test_bad_columnar_steps_are_rejected(client, steps, fragment):
    body = {"epochs": [{"epoch": 1, "train_loss": 1.0}], "steps": steps}
    assert_error(post_json(client, "/v1/runs", body), 422, "invalid_input", fragment)
    assert client.get("/v1/runs").json()["total"] == 0
