"""Commands that talk to a lossgap server: import a log, re-evaluate a run."""

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from app.cli.api import (
    DEFAULT_URL,
    HTTP_TIMEOUT_SECONDS,
    ApiFailed,
    ApiKey,
    Url,
    api_error,
    auth,
    failures_reported,
    fetch_report,
)
from app.cli.root import JOB_POLL_SECONDS, cli
from app.cli.sources import ConfigOption, MappingOption, json_object, lossgap_run, mlflow_ref


@cli.command()
def reevaluate(
    run: Annotated[str, typer.Argument(help="The run's id, or its address (…/v1/runs/<id>).")],
    model: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="The model as TorchScript (torch.jit.save)."
        ),
    ],
    data: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help=".npz (no pickle) or safetensors with x_train, y_train, x_val, y_val.",
        ),
    ],
    loss: Annotated[str, typer.Option(help="The training criterion, e.g. cross_entropy, mse.")] = (
        "cross_entropy"
    ),
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the job.")] = 3600.0,
) -> None:
    """Upload a run's model and data, re-evaluate them on a worker and show the diagnosis."""
    import time

    import httpx
    from rich.progress import Progress

    from app.terminal import show

    server, run_id = lossgap_run(run, url) or (url, run)
    with (
        failures_reported(server),
        httpx.Client(
            base_url=server, headers=auth(api_key), timeout=HTTP_TIMEOUT_SECONDS
        ) as client,
    ):
        for kind, path in (("model", model), ("data", data)):
            response = client.post(
                f"/v1/runs/{run_id}/artifacts",
                data={"kind": kind},
                files={"file": (path.name, path.read_bytes())},
            )
            if response.status_code != 201:
                typer.echo(f"upload of the {kind} failed ({api_error(response)})", err=True)
                raise typer.Exit(1)
        response = client.post(
            f"/v1/runs/{run_id}/reevaluations", json={"loss": loss, "device": device}
        )
        if response.status_code not in (200, 201, 202):
            typer.echo(f"the re-evaluation was refused ({api_error(response)})", err=True)
            raise typer.Exit(1)
        job_id = response.json()["job_id"]
        deadline = time.monotonic() + timeout
        with Progress(transient=True) as bar:
            task = bar.add_task("re-evaluating", total=1.0)
            while True:
                job = client.get(f"/v1/jobs/{job_id}").json()
                bar.update(
                    task,
                    completed=job["progress"],
                    description=job.get("stage") or job["status"],
                )
                if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
                    break
                time.sleep(JOB_POLL_SECONDS)
        if job["status"] != "succeeded":
            why = job["error"] or f"still {job['status']} after {timeout:g} s"
            typer.echo(f"job {job_id}: {why}", err=True)
            raise typer.Exit(1)
        diagnosis, epochs = fetch_report(client, run_id)
    typer.echo(f"job {job_id} re-evaluated run {run_id}")
    show(diagnosis, epochs, f"{server}/runs/{run_id}")


@cli.command("import")
def import_(
    file: Annotated[
        str,
        typer.Argument(
            help="A log file a training tool wrote, or an MLflow run (its UI address, or "
            "runs:/<id> with MLFLOW_TRACKING_URI set): the server fetches it."
        ),
    ],
    url: Url = DEFAULT_URL,
    fmt: Annotated[
        str | None, typer.Option("--format", help="The log format; detected when absent.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Run name; default: the file name.")] = None,
    project: Annotated[
        str | None,
        typer.Option(help="Store the run under this project; default: the key's only one."),
    ] = None,
    mapping: MappingOption = None,
    config: ConfigOption = None,
    write_back: Annotated[
        bool,
        typer.Option(
            "--write-back",
            help="For an MLflow run: write the verdict, top causes and confidences back as "
            "tags, and the diagnosis JSON and a plot as artifacts.",
        ),
    ] = False,
    api_key: ApiKey = None,
) -> None:
    """Upload a log file to a running server (POST /v1/imports) and show its diagnosis."""
    import httpx

    from app.terminal import show

    roles, settings = json_object(mapping, "--mapping"), json_object(config, "--config")
    data = {k: v for k, v in (("format", fmt), ("name", name), ("project", project)) if v}
    data |= {k: json.dumps(v) for k, v in (("mapping", roles), ("config", settings)) if v}
    ref = mlflow_ref(file)
    if write_back and ref is None:
        raise typer.BadParameter(
            "--write-back writes to an MLflow run: give the run (its UI address, or runs:/<id> "
            "with MLFLOW_TRACKING_URI set), not a file"
        )
    written = None
    with (
        failures_reported(url),
        httpx.Client(base_url=url, headers=auth(api_key), timeout=HTTP_TIMEOUT_SECONDS) as client,
    ):
        if ref is not None:
            body = {
                "run": ref.run_id,
                "tracking_uri": ref.tracking_uri,
                "name": name,
                "project": project,
                "mapping": roles,
                "config": settings,
                "token": os.environ.get("MLFLOW_TRACKING_TOKEN") or None,
            }
            response = client.post("/v1/imports/mlflow", json=body)
        else:
            path = Path(file)
            response = client.post(
                "/v1/imports", files={"file": (path.name, path.read_bytes())}, data=data
            )
        if response.status_code != 201:
            raise ApiFailed(f"import failed ({api_error(response)})")
        created = response.json()
        run_id = created["id"]
        diagnosis, epochs = fetch_report(client, run_id)
        if write_back and ref is not None:
            response = client.post(
                f"/v1/runs/{run_id}/writeback/mlflow",
                json={
                    "run": ref.run_id,
                    "tracking_uri": ref.tracking_uri,
                    "token": os.environ.get("MLFLOW_TRACKING_TOKEN") or None,
                },
            )
            if response.status_code != 200:
                raise ApiFailed(f"write-back failed ({api_error(response)})")
            written = response.json()
    typer.echo(f"run {run_id} ({created['format']}, {created['epoch_count']} epochs)")
    for note in created["notes"]:
        typer.echo(f"  note: {note}")
    show(diagnosis, epochs, f"{url}/runs/{run_id}")
    if written is not None:
        files = ", ".join(written["artifacts"]) or "no artifacts"
        typer.echo(f"wrote {len(written['tags'])} tags and {files} to {written['run']}")
        for note in written["notes"]:
            typer.echo(f"  note: {note}")
