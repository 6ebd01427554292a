"""The OpenAPI schema describes the API as it behaves: every route lists the errors it can
answer with, in the body the service really sends; every request and response has an example;
and Swagger UI and ReDoc load without a network."""

import re

import pytest

from app.system.openapi import ErrorBody

ERROR_REF = "#/components/schemas/ErrorBody"
SHARED_V1 = {"401", "422", "500"}


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json()


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def has_example(spec, content):
    if "example" in content or "examples" in content:
        return True
    schema = resolve(spec, content.get("schema", {}))
    if schema.get("type") == "array":
        schema = resolve(spec, schema.get("items", {}))
    if "example" in schema or "examples" in schema:
        return True
    # a form: each field but the file carries its own example
    fields = [f for f in schema.get("properties", {}).values() if "contentMediaType" not in f]
    return bool(fields) and all("examples" in field for field in fields)


def test_every_error_response_is_the_error_body_the_service_sends(spec):
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                content = response["content"]["application/json"]
                assert content["schema"]["$ref"] == ERROR_REF, (method, path, status)
                ErrorBody.model_validate(content["example"])
        if path.startswith("/v1/"):
            assert set(op["responses"]) >= SHARED_V1, (method, path)
        if "{" in path:
            assert "404" in op["responses"], (method, path)


def test_every_request_and_response_has_an_example(spec):
    for path, method, op in operations(spec):
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            assert has_example(spec, content), (method, path, media)
        for status, response in op["responses"].items():
            for media, content in response.get("content", {}).items():
                assert has_example(spec, content), (method, path, status, media)


def test_the_documented_error_shape_is_what_a_failing_request_gets(client):
    responses = [
        client.get("/v1/runs/nope"),
        client.post("/v1/runs", json={"epochs": [{"epoch": 1, "val_loss": "x"}]}),
        client.post("/v1/runs", content=b"{", headers={"content-type": "application/json"}),
        client.post("/v1/imports", files={"file": ("odd.csv", b"it,a,b\n1,0.5,0.6\n2,0.4,0.5\n")}),
    ]
    assert [r.status_code for r in responses] == [404, 422, 400, 422]
    for response in responses:
        ErrorBody.model_validate(response.json())


def test_the_request_examples_are_accepted_as_they_are(client, spec):
    run_example = resolve(spec, {"$ref": "#/components/schemas/RunCreate"})["example"]
    created = client.post("/v1/runs", json=run_example)
    assert created.status_code == 201, created.text
    append = resolve(spec, {"$ref": "#/components/schemas/HistoryAppend"})["examples"][0]
    appended = client.post(f"/v1/runs/{created.json()['id']}/epochs", json=append)
    assert appended.status_code == 200, appended.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_pages_load_their_scripts_from_the_service_itself(client, page):
    html = client.get(page).text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
    for asset in assets:
        if asset.endswith((".js", ".css")):
            response = client.get(asset)
            assert response.status_code == 200 and len(response.content) > 10_000, asset


def test_links_lead_from_a_created_run_and_a_queued_job_to_real_operations(spec):
    every = list(operations(spec))
    known = {op["operationId"] for _, _, op in every}
    linked = []
    for path, method, op in every:
        for status, response in op["responses"].items():
            for link in response.get("links", {}).values():
                assert link["operationId"] in known, link
                linked.append((method, path, status, link["operationId"]))
    targets = {operation for *_, operation in linked}
    assert {"get_job_v1_jobs__job_id__get", "post_probe_v1_runs__run_id__probes_post"} <= targets
    assert ("post", "/v1/runs", "201") in {(m, p, s) for m, p, s, _ in linked}
    created = spec["paths"]["/v1/runs"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]  # the model is kept beside the links
