"""`lossgap diagnose`: a diagnosis in the terminal or as JSON, and an exit status CI can gate on."""

from typing import Annotated, Any

import typer

from app.cli import writeback
from app.cli.api import (
    DEFAULT_URL,
    HTTP_TIMEOUT_SECONDS,
    ApiKey,
    Url,
    auth,
    failures_reported,
    fetch_report,
)
from app.cli.root import DEFAULT_FAIL_CONFIDENCE, FAIL_EXIT, cli
from app.cli.sources import ConfigOption, MappingOption, json_object, lossgap_run, read_run


def _fail_on(value: str | None) -> tuple[str, float] | None:
    """`problem` or `problem:0.7` (or a cause id, or `benign`), for `diagnose --fail-on`."""
    if value is None:
        return None
    what, _, threshold = value.partition(":")
    try:
        confidence = float(threshold) if threshold else DEFAULT_FAIL_CONFIDENCE
    except ValueError:
        confidence = -1.0
    if not 0 <= confidence <= 1:
        raise typer.BadParameter(
            f"{value!r}: the threshold after ':' must be a confidence between 0 and 1, "
            "as in problem:0.7"
        )
    from app.analysis.catalog import BY_ID

    if what not in ("problem", "benign", *BY_ID):
        raise typer.BadParameter(
            f"{what!r} is not a cause kind or id: use problem, benign or one of "
            f"{', '.join(sorted(BY_ID))}"
        )
    return what, confidence


@cli.command()
def diagnose(
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE|RUN",
            help="A run as JSON (the body of POST /v1/runs), any log file, a run stored by "
            "lossgap (its address …/v1/runs/<id>, or its id on LOSSGAP_URL) or an MLflow run "
            "(its UI address, or runs:/<id> with MLFLOW_TRACKING_URI set).",
        ),
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="The log format; detected when absent.")
    ] = None,
    mapping: MappingOption = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit with status 3 when a cause of this kind (problem, benign) or id reaches "
            "the confidence after ':' (default 0.5), e.g. problem:0.7; for CI steps.",
        ),
    ] = None,
    write_back: Annotated[
        bool,
        typer.Option(
            "--write-back",
            help="Write the verdict and top causes back where the run came from: a TensorBoard "
            "log dir (a text summary) or an MLflow run (tags, the diagnosis and a plot).",
        ),
    ] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Diagnose a loss history: a file locally, without a server; a lossgap run on its server
    (with what its re-evaluations found)."""
    gate = _fail_on(fail_on)
    stored = lossgap_run(source, url)
    destination = writeback.target(source) if write_back else None
    if stored is not None:
        result, epochs = _stored(*stored, api_key)
        where = f"{stored[0]}/runs/{stored[1]}"
    else:
        document = read_run(
            source, fmt, json_object(mapping, "--mapping"), json_object(config, "--config")
        )
        result, epochs, where = _local(document), document["epochs"], source
    if as_json:
        from app.responses import dumps

        typer.echo(dumps(result).decode())
    else:
        from app.terminal import show

        show(result, epochs, where)
    if destination is not None:
        typer.echo(writeback.write(destination, result, epochs), err=as_json)
    if gate is not None:
        _gate(result["causes"], *gate)


def _local(document: dict[str, Any]) -> dict[str, Any]:
    from app import analysis
    from app.analysis.document import history_from_document

    history = history_from_document(document)
    result = {"status": "complete", "engine_version": analysis.engine_version()}
    result.update(analysis.diagnose(history).to_dict())
    return result


def _stored(
    server: str, run_id: str, api_key: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import httpx

    with (
        failures_reported(server),
        httpx.Client(
            base_url=server, headers=auth(api_key), timeout=HTTP_TIMEOUT_SECONDS
        ) as client,
    ):
        return fetch_report(client, run_id)


def _gate(causes: list[dict[str, Any]], what: str, confidence: float) -> None:
    hits = [c for c in causes if what in (c["kind"], c["id"]) and c["confidence"] >= confidence]
    if hits:
        names = ", ".join(f"{c['id']} ({c['confidence']:.2f})" for c in hits)
        typer.echo(f"--fail-on {what}:{confidence:g}: {names}", err=True)
        raise typer.Exit(FAIL_EXIT)
