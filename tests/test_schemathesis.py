"""Property-based tests from the OpenAPI schema (schemathesis): no generated request, valid or
not, makes the service answer 5xx; and the stateful phase, following the schema's links from a
created run, reaches the run's artifacts, probes, diagnosis and re-evaluations. (The link to a
job follows an accepted re-evaluation, which needs a real TorchScript model and data: generated
uploads never are one, so `GET /v1/jobs/{id}` is fuzzed with unknown ids only.)"""

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import empty_tables

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)
# No explain phase: it replays a failure under a line tracer, minutes on Python 3.11.
STATEFUL = settings(
    SETTINGS,
    max_examples=250,
    stateful_step_count=8,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)


@pytest.fixture
def api_schema(client: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


def test_no_generated_request_is_a_server_error(api_schema: Any) -> None:
    """Every operation, with hypothesis' cases from its schema (positive and negative). Driven
    here rather than by `schemathesis.pytest.from_fixture`, whose hook reads a pytest attribute
    that pytest 9 removed."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @SETTINGS
        def no_server_error(case: Any) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()


def test_the_stateful_phase_follows_links_into_a_runs_operations(
    client: Any, api_schema: Any
) -> None:
    answered: Counter[tuple[str, int]] = Counter()

    # Creating a run and the operations linked from it: the imports', jobs' and run list's
    # operations have no link into a run (the first test fuzzes them) and, left in, they take
    # most steps of a sequence, so whether a linked call is ever drawn would hang on how the
    # sequences happen to fall (they did: an unrelated import elsewhere shifted them).
    runs = api_schema.include(path_regex=r"^/v1/runs").exclude(method="GET", path="/v1/runs")

    class Workflow(runs.as_state_machine()):  # type: ignore[misc]
        def teardown(self) -> None:
            empty_tables(client)  # each sequence starts from an empty service, as replays do

        def after_call(self, response: Any, case: Any) -> None:
            answered[(f"{case.method} {case.operation.path}", response.status_code)] += 1

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=[not_a_server_error])

    Workflow.run(settings=STATEFUL)

    def reached(operation: str) -> set[int]:
        return {status for (op, status), _ in answered.items() if op == operation}

    # A linked call carries the id of a run that exists, so it is answered (not 404) at least
    # once; 5xx never (the check above).
    for operation in (
        "GET /v1/runs/{run_id}",
        "GET /v1/runs/{run_id}/diagnosis",
        "POST /v1/runs/{run_id}/artifacts",
        "GET /v1/runs/{run_id}/artifacts",
        "GET /v1/runs/{run_id}/probes",
        "POST /v1/runs/{run_id}/reevaluations",
    ):
        assert reached(operation) - {404}, (operation, sorted(answered.items()))
