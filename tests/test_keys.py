"""Project-scoped keys: a key sees, lists, writes and deletes only its projects' runs and jobs,
in the API and in the pages; admin keys (LOSSGAP_API_KEYS or `keys create --admin`) see all."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.db.engine import make_engine, make_sessionmaker
from app.keys import service as keys
from app.main import create_app
from app.models import ApiKey, Job, JobStatus
from tests.conftest import empty_tables, lossgap, make_settings, post_json, server_env

ADMIN = "admin-secret"
EPOCHS = [
    {"epoch": e, "train_loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1) + 0.01 * e}
    for e in range(12)
]
CSV = b"epoch,train_loss,val_loss\n" + b"".join(
    f"{e},{1 / (e + 1):.4f},{1.2 / (e + 1):.4f}\n".encode() for e in range(10)
)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keyed(backend: dict[str, Any]) -> Iterator[TestClient]:
    settings = make_settings(
        backend["name"], backend["tmp"], backend["url"], require_keys=True, api_keys=[ADMIN]
    )
    with TestClient(create_app(settings)) as client:
        yield client
        empty_tables(client)


def make_key(client: TestClient, projects: list[str] | None) -> str:
    sessions = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with sessions.begin() as session:
        return keys.create_key(session, "test", projects).secret


def make_run(client: TestClient, key: str, project: str | None, **extra: Any) -> str:
    body = {"name": f"run-{project}", "epochs": EPOCHS, **extra}
    if project is not None:
        body["project"] = project
    made = client.post("/v1/runs", json=body, headers=bearer(key))
    assert made.status_code in (200, 201), made.text
    return str(made.json()["id"])


@pytest.fixture
def teams(keyed: TestClient) -> dict[str, str]:
    """Runs of two projects and one without a project, made with the admin key."""
    return {
        "vision": make_run(keyed, ADMIN, "vision"),
        "nlp": make_run(keyed, ADMIN, "nlp"),
        "none": make_run(keyed, ADMIN, None),
    }


def add_job(client: TestClient, run_id: str) -> str:
    sessions = client.app.state.sessionmaker  # type: ignore[attr-defined]
    job_id = str(uuid.uuid4())
    with sessions.begin() as session:
        session.add(
            Job(id=job_id, run_id=run_id, kind="reevaluate", status=JobStatus.queued, params={})
        )
    return job_id


def test_a_project_key_lists_reads_and_deletes_only_its_projects_runs(keyed, teams):
    vision = make_key(keyed, ["vision"])
    listed = keyed.get("/v1/runs", headers=bearer(vision)).json()
    assert [r["id"] for r in listed["items"]] == [teams["vision"]] and listed["total"] == 1
    asked_for_other = keyed.get("/v1/runs?project=nlp", headers=bearer(vision)).json()
    assert asked_for_other["items"] == [] and asked_for_other["total"] == 0
    nlp_job = add_job(keyed, teams["nlp"])
    own_job = add_job(keyed, teams["vision"])

    for hidden in (teams["nlp"], teams["none"]):
        for path in ("", "/diagnosis", "/artifacts", "/probes"):
            answer = keyed.get(f"/v1/runs/{hidden}{path}", headers=bearer(vision))
            assert answer.status_code == 404, (path, answer.text)
            assert answer.json()["error"]["code"] == "not_found"
        appended = post_json(
            keyed, f"/v1/runs/{hidden}/epochs", {"epochs": [{"epoch": 99, "train_loss": 0.1}]}
        )
        assert appended.status_code == 401  # no key at all
        appended = keyed.post(
            f"/v1/runs/{hidden}/epochs",
            json={"epochs": [{"epoch": 99, "train_loss": 0.1}]},
            headers=bearer(vision),
        )
        assert appended.status_code == 404
        assert keyed.delete(f"/v1/runs/{hidden}", headers=bearer(vision)).status_code == 404
    assert keyed.get(f"/v1/jobs/{nlp_job}", headers=bearer(vision)).status_code == 404
    assert keyed.get(f"/v1/jobs/{own_job}", headers=bearer(vision)).status_code == 200

    # Nothing of the other project was changed, and a missing run answers the same way.
    other = keyed.get(f"/v1/runs/{teams['nlp']}", headers=bearer(ADMIN)).json()
    assert [e["epoch"] for e in other["epochs"]] == list(range(12))
    missing = keyed.get(f"/v1/runs/{uuid.uuid4()}", headers=bearer(vision)).json()
    hidden = keyed.get(f"/v1/runs/{teams['nlp']}", headers=bearer(vision)).json()
    assert missing["error"]["code"] == hidden["error"]["code"] == "not_found"

    own = keyed.get(f"/v1/runs/{teams['vision']}/diagnosis", headers=bearer(vision))
    assert own.status_code == 200
    assert keyed.delete(f"/v1/runs/{teams['vision']}", headers=bearer(vision)).status_code == 204
    assert keyed.get("/v1/runs", headers=bearer(ADMIN)).json()["total"] == 2


def test_admin_keys_see_every_project(keyed, teams):
    stored_admin = make_key(keyed, None)
    for key in (ADMIN, stored_admin):
        assert keyed.get("/v1/runs", headers=bearer(key)).json()["total"] == 3
        assert keyed.get(f"/v1/runs/{teams['none']}", headers=bearer(key)).status_code == 200
    several = make_key(keyed, ["vision", "nlp"])
    listed = keyed.get("/v1/runs", headers=bearer(several)).json()
    assert {r["id"] for r in listed["items"]} == {teams["vision"], teams["nlp"]}


def test_a_project_key_writes_only_to_its_projects(keyed, teams):
    vision = make_key(keyed, ["vision"])
    defaulted = keyed.post("/v1/runs", json={"epochs": EPOCHS}, headers=bearer(vision))
    assert defaulted.status_code == 201 and defaulted.json()["project"] == "vision"

    foreign = keyed.post(
        "/v1/runs", json={"project": "nlp", "epochs": EPOCHS}, headers=bearer(vision)
    )
    assert foreign.status_code == 403 and "vision" in foreign.json()["error"]["message"]

    several = make_key(keyed, ["vision", "nlp"])
    unnamed = keyed.post("/v1/runs", json={"epochs": EPOCHS}, headers=bearer(several))
    assert unnamed.status_code == 422 and "name one in `project`" in unnamed.text

    # A client-chosen id of another project's run is not appended to.
    retried = keyed.post(
        "/v1/runs",
        json={"id": teams["nlp"], "project": "vision", "epochs": [{"epoch": 50, "val_loss": 9}]},
        headers=bearer(vision),
    )
    assert retried.status_code == 404
    stored = keyed.get(f"/v1/runs/{teams['nlp']}", headers=bearer(ADMIN)).json()
    assert stored["epoch_count"] == 12
    assert keyed.get("/v1/runs", headers=bearer(ADMIN)).json()["total"] == 4


def test_imports_are_stored_under_the_keys_project(keyed):
    vision = make_key(keyed, ["vision"])
    imported = keyed.post("/v1/imports", files={"file": ("log.csv", CSV)}, headers=bearer(vision))
    assert imported.status_code == 201, imported.text
    run = keyed.get(f"/v1/runs/{imported.json()['id']}", headers=bearer(vision)).json()
    assert run["project"] == "vision"
    refused = keyed.post(
        "/v1/imports",
        files={"file": ("log.csv", CSV)},
        data={"project": "nlp"},
        headers=bearer(vision),
    )
    assert refused.status_code == 403
    mlflow = keyed.post(
        "/v1/imports/mlflow",
        json={"run": "runs:/abc", "tracking_uri": "http://127.0.0.1:9", "project": "nlp"},
        headers=bearer(vision),
    )
    assert mlflow.status_code == 403  # refused before the tracking server is called
    assert keyed.get("/v1/runs", headers=bearer(ADMIN)).json()["total"] == 1


def test_unknown_revoked_and_missing_keys_are_refused_before_the_body(keyed):
    vision = make_key(keyed, ["vision"])
    assert keyed.get("/v1/runs").status_code == 401
    assert keyed.get("/v1/runs", headers=bearer("lgk_" + "x" * 43)).status_code == 401
    malformed = keyed.post(
        "/v1/runs",
        content=b"{" * 100_000,
        headers={**bearer("lgk_unknown"), "content-type": "application/json"},
    )
    assert malformed.status_code == 401 and "not valid" in malformed.json()["error"]["message"]

    sessions = keyed.app.state.sessionmaker  # type: ignore[attr-defined]
    with sessions.begin() as session:
        stored = session.scalars(select(ApiKey)).one()
        assert vision not in (stored.secret_hash, stored.prefix)  # only a hash is kept
        keys.revoke_key(session, stored.prefix)
    revoked = keyed.get("/v1/runs", headers=bearer(vision))
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]


def test_the_pages_show_only_the_logged_in_keys_projects(keyed, teams):
    vision = make_key(keyed, ["vision"])
    assert keyed.get("/", follow_redirects=False).status_code == 303  # to the login form
    login = keyed.post("/login", data={"key": vision, "next": "/"}, follow_redirects=False)
    assert login.status_code == 303 and keyed.cookies.get("lossgap_key") == vision
    page = keyed.get("/")
    assert page.status_code == 200
    assert teams["vision"] in page.text
    assert teams["nlp"] not in page.text and teams["none"] not in page.text
    for path in (
        f"/runs/{teams['nlp']}",
        f"/runs/{teams['nlp']}/curves.svg",
        f"/compare?runs={teams['vision']},{teams['nlp']}",
    ):
        assert keyed.get(path).status_code == 404, path
    assert keyed.get(f"/runs/{teams['vision']}").status_code == 200
    imported = keyed.post(
        "/import",
        files={"file": ("log.csv", CSV)},
        data={"project": "nlp"},
    )
    assert imported.status_code == 403 and "may not write to project" in imported.text
    wrong = keyed.post("/login", data={"key": "lgk_nope", "next": "/"})
    assert wrong.status_code == 401


def test_keys_cli_creates_lists_and_revokes(backend, tmp_path):
    env = server_env(backend, tmp_path)
    made = lossgap("keys", "create", "--project", "vision", "--name", "ci", env=env)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("lgk_") and "\n" not in secret
    listed = lossgap("keys", "list", env=env)
    row = next(line for line in listed.stdout.splitlines() if secret[:12] in line)
    assert "\tvision\tci\t" in row and row.endswith("active")

    settings = make_settings(backend["name"], tmp_path, backend["url"])
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            access = keys.resolve(session, settings, secret)
            assert access is not None and access.projects == frozenset({"vision"})
        revoked = lossgap("keys", "revoke", secret[:12], env=env)
        assert revoked.returncode == 0, revoked.stderr
        with make_sessionmaker(engine)() as session:
            assert keys.resolve(session, settings, secret) is None
        neither = lossgap("keys", "create", env=env)
        assert neither.returncode == 2 and "exactly one" in neither.stderr
        unknown = lossgap("keys", "revoke", "nope", env=env)
        assert unknown.returncode == 1 and "No key" in unknown.stderr
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM api_keys"))
        engine.dispose()
