"""What operators rely on: probes, metrics, request ids, structured logs, auth, 500s."""

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import migrate
from app.main import create_app
from tests.conftest import PostgresDatabase, empty_tables, make_settings, post_json
from tests.test_runs_api import CONTRACT_EXAMPLE, create


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["schema"] == client.app.state.schema_head


def test_readyz_is_503_until_the_schema_is_migrated(backend, tmp_path):
    database = PostgresDatabase() if backend["name"] == "postgres" else None
    try:
        url = database.url if database else None
        settings = make_settings(backend["name"], tmp_path, url, auto_migrate=False)
        with TestClient(create_app(settings)) as client:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert "lossgap db upgrade" in response.json()["error"]["message"]
            migrate.upgrade(settings)
            assert client.get("/readyz").status_code == 200
            client.app.state.engine.dispose()
    finally:
        if database:
            database.drop()


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    settings = make_settings(
        "postgres", tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none", auto_migrate=False
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"


def test_metrics_count_requests_by_route_and_report_the_store(client):
    create(client)
    client.get("/v1/runs")
    client.get("/v1/runs/does-not-exist")
    body = client.get("/metrics").text
    assert 'lossgap_http_requests_total{method="POST",route="/v1/runs",status="201"}' in body
    assert 'route="/v1/runs/{run_id}",status="404"' in body
    assert "lossgap_http_request_duration_seconds_bucket" in body
    assert "lossgap_runs_stored 1.0" in body
    for state in ("queued", "running", "succeeded", "failed"):
        assert f'lossgap_jobs{{state="{state}"}} 0.0' in body


def test_request_id_is_returned_and_honoured(client):
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    given = client.get("/healthz", headers={"x-request-id": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    hostile = client.get("/healthz", headers={"x-request-id": "a b\tc" * 50})
    assert hostile.headers["x-request-id"] != "a b\tc" * 50


def test_one_json_log_line_per_request(backend, tmp_path, capsys):
    settings = make_settings(backend["name"], tmp_path, backend["url"], log_format="json")
    with TestClient(create_app(settings)) as client:
        client.get("/healthz", headers={"x-request-id": "req-1"})
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    access = [line for line in lines if line.get("logger") == "lossgap.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "req-1" and access[0]["status"] == 200
    assert access[0]["route"] == "/healthz" and access[0]["duration_ms"] >= 0
    logging.getLogger().handlers.clear()


@pytest.fixture
def keyed_client(backend, tmp_path):
    settings = make_settings(backend["name"], tmp_path, backend["url"], api_keys=["k1", "k2"])
    with TestClient(create_app(settings)) as client:
        yield client
        empty_tables(client)


def test_api_keys_guard_every_v1_route(keyed_client):
    c = keyed_client
    for method, url in [
        ("get", "/v1/runs"),
        ("post", "/v1/runs"),
        ("get", "/v1/runs/x"),
        ("delete", "/v1/runs/x"),
        ("get", "/v1/runs/x/diagnosis"),
        ("post", "/v1/runs/x/epochs"),
    ]:
        response = getattr(c, method)(url)
        assert response.status_code == 401, (method, url)
        assert response.headers["www-authenticate"] == "Bearer"
    wrong = c.get("/v1/runs", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "not valid" in wrong.json()["error"]["message"]
    ok = post_json(c, "/v1/runs", CONTRACT_EXAMPLE)
    assert ok.status_code == 401
    authed = c.post("/v1/runs", json=CONTRACT_EXAMPLE, headers={"authorization": "Bearer k2"})
    assert authed.status_code == 201
    assert c.get("/healthz").status_code == 200 and c.get("/metrics").status_code == 200


def test_api_keys_setting_reads_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("LOSSGAP_API_KEYS", " alpha, beta ,,")
    from app.config import Settings

    assert Settings(_env_file=None).api_keys == ["alpha", "beta"]


def test_an_unexpected_failure_is_a_json_500_with_the_request_id(backend, tmp_path):
    app = create_app(make_settings(backend["name"], tmp_path, backend["url"]))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"x-request-id": "r-500"})
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error" and error["request_id"] == "r-500"
    assert "bug" not in error["message"]
    assert response.headers["connection"] == "close"  # a keep-alive client reconnects


def test_a_failed_commit_is_reported_not_acknowledged(client):
    """The session commits before the response is sent, so a commit failure is never a 201."""
    run_id = create(client)
    engine = client.app.state.engine
    trigger = {
        "sqlite": [
            "CREATE TRIGGER refuse BEFORE INSERT ON epoch_records "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; "
            "END $$ LANGUAGE plpgsql",
            "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON epoch_records "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()",
        ],
    }[engine.dialect.name]
    with engine.begin() as conn:
        for statement in trigger:
            conn.execute(text(statement))
    try:
        client_no_raise = TestClient(client.app, raise_server_exceptions=False)
        response = post_json(
            client_no_raise,
            f"/v1/runs/{run_id}/epochs",
            {"epochs": [{"epoch": 5, "val_loss": 1.0}]},
        )
        assert response.status_code == 500
        assert client.get(f"/v1/runs/{run_id}").json()["epoch_count"] == 2
    finally:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "DROP TRIGGER refuse"
                    if engine.dialect.name == "sqlite"
                    else "DROP TRIGGER refuse ON epoch_records"
                )
            )
            if engine.dialect.name == "postgresql":
                conn.execute(text("DROP FUNCTION refuse()"))


def test_openapi_documents_the_request_bodies(client):
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/v1/runs"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"] == "#/components/schemas/RunCreate"
    components = schema["components"]["schemas"]
    assert {"RunCreate", "HistoryAppend", "EpochRow"} <= set(components)
    assert "epochs" in components["RunCreate"]["required"]
    assert client.get("/docs").status_code == 200
