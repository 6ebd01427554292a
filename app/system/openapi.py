"""What the OpenAPI schema says about errors: the one body every failure has
(`{"error": {"code", "message", …}}`, written by `app.errors`), and, per status, when it
happens and an example. Routes list the statuses they can answer with `errors(404, 413)`; the
`/v1` router adds the ones every route shares (401 without a valid key, 422, 500)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorField(BaseModel):
    field: str = Field(description="Where, e.g. `epochs[3].val_loss`.")
    message: str
    type: str


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Machine-readable: `validation_error`, `not_found`, …")
    message: str = Field(description="What was wrong and how to fix it.")
    fields: list[ErrorField] | None = Field(
        None, description="Every invalid field (`validation_error` only)."
    )
    request_id: str | None = Field(None, description="Quote it when reporting a 500.")
    columns: list[str] | None = Field(
        None, description="An import whose format was not recognized: the table's columns."
    )
    mapping: dict[str, str] | None = Field(
        None, description="An import whose columns were not recognized: a mapping to send back."
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


EXAMPLES: dict[int, tuple[str, str, str]] = {
    400: (
        "The body is not valid JSON.",
        "invalid_json",
        "The request body is not valid JSON (expected value at line 1 column 12); send a JSON "
        "object.",
    ),
    401: (
        "The server requires keys and the request has no valid `Authorization: Bearer <key>`.",
        "unauthorized",
        "This server requires an API key: send `Authorization: Bearer <key>`.",
    ),
    403: (
        "The key may not write to the project named.",
        "forbidden",
        "This key may not write to project 'vision'; it writes to nlp. Ask for a key of that "
        "project.",
    ),
    404: (
        "No such run or job (or it belongs to a project the key does not see).",
        "not_found",
        "No run with id '3f0c8a1e-…'; list runs with GET /v1/runs.",
    ),
    409: (
        "The run lacks what the request needs.",
        "conflict",
        "Run 3f0c8a1e-… has no data artifact yet: upload them with POST /v1/runs/{id}/artifacts "
        "(…) before starting a re-evaluation.",
    ),
    413: (
        "A limit was exceeded (body size, rows, epochs, upload size).",
        "too_large",
        "The run would hold 100001 epochs, more than LOSSGAP_MAX_EPOCHS_PER_RUN=100000; nothing "
        "was stored.",
    ),
    422: (
        "The request is well-formed but its content is invalid; every invalid field is listed.",
        "validation_error",
        "epochs[3].val_loss: Input should be a valid number",
    ),
    500: (
        "A bug: logged with the request id.",
        "internal_error",
        "The server failed on this request; it has been logged. Quote request id 5b1d….",
    ),
    502: (
        "The MLflow tracking server failed or could not be reached.",
        "upstream_error",
        "http://mlflow:5000 could not be reached (connection refused).",
    ),
    503: (
        "The database is unreachable or not migrated.",
        "unavailable",
        "The database schema is at c440c8207505, not 5a7e1c0d9b21; run `lossgap db upgrade`.",
    ),
}
SHARED = (401, 422, 500)  # every /v1 route


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` entries of these statuses: the error body, when, and an example."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        when, code, message = EXAMPLES[status]
        example: dict[str, Any] = {"code": code, "message": message}
        if status == 422:
            example["fields"] = [
                {
                    "field": "epochs[3].val_loss",
                    "message": message.split(": ", 1)[1],
                    "type": "float_type",
                }
            ]
        out[status] = {
            "model": ErrorBody,
            "description": when,
            "content": {"application/json": {"example": {"error": example}}},
        }
    return out


# What a created run's id opens (OpenAPI links: clients and schemathesis' stateful phase follow
# them from a response to the operations that take its id).
RUN_OPERATIONS = {
    "AppendHistory": "append_history_v1_runs__run_id__epochs_post",
    "GetRun": "get_run_v1_runs__run_id__get",
    "GetDiagnosis": "get_diagnosis_v1_runs__run_id__diagnosis_get",
    "UploadArtifact": "upload_artifact_v1_runs__run_id__artifacts_post",
    "ListArtifacts": "list_artifacts_v1_runs__run_id__artifacts_get",
    "StartReevaluation": "start_reevaluation_v1_runs__run_id__reevaluations_post",
    "PostProbe": "post_probe_v1_runs__run_id__probes_post",
    "ListProbes": "list_probes_v1_runs__run_id__probes_get",
    "DeleteRun": "delete_run_v1_runs__run_id__delete",
}


def created_run(description: str) -> dict[int | str, dict[str, Any]]:
    """The 201 of an operation that creates a run, with links to what its `id` opens."""
    links = {
        name: {"operationId": operation, "parameters": {"run_id": "$response.body#/id"}}
        for name, operation in RUN_OPERATIONS.items()
    }
    return {201: {"description": description, "links": links}}


def started_job(description: str) -> dict[int | str, dict[str, Any]]:
    """The 202 of an operation that queues a job, with a link to poll it."""
    link = {
        "operationId": "get_job_v1_jobs__job_id__get",
        "parameters": {"job_id": "$response.body#/job_id"},
    }
    return {202: {"description": description, "links": {"GetJob": link}}}
