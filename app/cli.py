"""The `lossgap` command: serve the API, run a worker, manage the schema."""

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from app.config import Settings


# Settings, server, database and analysis modules are imported inside the commands that use
# them, so `lossgap diagnose` starts fast.


def _settings() -> tuple["Settings", Callable[["Settings"], None]]:
    from app.config import get_settings
    from app.system.logging import configure_logging

    return get_settings(), configure_logging


def _configured() -> "Settings":
    settings, configure_logging = _settings()
    configure_logging(settings)
    return settings


cli = typer.Typer(
    help="lossgap: why your training and validation losses look the way they do.",
    no_args_is_help=True,
)
FAIL_EXIT = 3  # `diagnose --fail-on` found what it was told to fail on (2 is a usage error)
DEFAULT_FAIL_CONFIDENCE = 0.5
JOB_POLL_SECONDS = 0.5


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        from app.analysis.diagnose import ENGINE_VERSION

        typer.echo(f"lossgap {version('lossgap')} (engine {ENGINE_VERSION})")
        raise typer.Exit()


@cli.callback()
def _main(
    _: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """lossgap: why your training and validation losses look the way they do."""


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


db = typer.Typer(help="Manage the database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db, name="db")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (Postgres for more than one).")] = 1,
    embedded_worker: Annotated[
        bool | None,
        typer.Option(help="Run jobs in this process too; default: on with the embedded queue."),
    ] = None,
) -> None:
    """Serve the API (Swagger UI at /docs). On the embedded default the schema is upgraded first."""
    import uvicorn

    from app.db import migrate

    settings = _configured()
    if settings.should_auto_migrate:
        migrate.upgrade(settings)
    # Migrated once here; the server processes must not race to do it again.
    os.environ["LOSSGAP_AUTO_MIGRATE"] = "false"
    consumer = None
    if settings.queue_url is None if embedded_worker is None else embedded_worker:
        from workers import consumer as consumers  # the API package itself never imports workers
        from workers.handlers import HANDLERS

        runner = consumers.build(settings, "default", HANDLERS)
        runner.reap()
        consumer = consumers.consumer(runner, settings.worker_concurrency, embedded=True)
        consumer.start()
        reaper = consumers.Reaper(runner)
        reaper.start()
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        )
    finally:
        if consumer is not None:
            reaper.stop()
            consumer.stop(graceful=True)


@cli.command()
def worker(
    queue: Annotated[str, typer.Option(help="Queue to consume (e.g. gpu).")] = "default",
    concurrency: Annotated[int | None, typer.Option(help="Jobs run at once.")] = None,
) -> None:
    """Consume jobs from LOSSGAP_QUEUE_URL (thread workers; several may share one queue)."""
    from workers.consumer import run_worker
    from workers.handlers import HANDLERS

    settings, configure_logging = _settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    configure_logging(settings)
    run_worker(settings, queue, HANDLERS)


def _mlflow_ref(source: str) -> Any:
    """The MLflow run SOURCE names (UI address, runs:/<id>, an id), or None for a file path."""
    if Path(source).exists():
        return None
    from app.imports import mlflow_server  # httpx: only when SOURCE is no file

    try:
        return mlflow_server.reference(source, os.environ.get("MLFLOW_TRACKING_URI"))
    except mlflow_server.NotARun as exc:
        if source.startswith(("http://", "https://", "runs:/")) or mlflow_server.RUN_ID.fullmatch(
            source
        ):
            raise typer.BadParameter(str(exc)) from exc
        return None


def _read_mlflow(ref: Any) -> dict[str, Any]:
    from app.imports import mlflow_server

    auth = {
        "token": os.environ.get("MLFLOW_TRACKING_TOKEN", ""),
        "username": os.environ.get("MLFLOW_TRACKING_USERNAME", ""),
        "password": os.environ.get("MLFLOW_TRACKING_PASSWORD", ""),
    }
    try:
        parsed, name = mlflow_server.fetch(ref, auth=auth)
    except (mlflow_server.UpstreamError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    return parsed.document(name)


def _read_run(source: str, fmt: str | None) -> dict[str, Any]:
    """A run document from SOURCE: the JSON of POST /v1/runs, any importable log, or a run on
    an MLflow tracking server."""
    from app.imports import detect

    ref = _mlflow_ref(source)
    if ref is not None:
        return _read_mlflow(ref)
    file = Path(source)
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}") from exc
    if fmt is None and file.suffix == ".json":
        try:
            document = json.loads(content)
        except ValueError:
            document = None
        if isinstance(document, dict) and isinstance(document.get("epochs"), list):
            return document
    try:
        parsed = detect.parse(content, file.name, fmt, None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return parsed.document(file.name)


@cli.command()
def diagnose(
    file: Annotated[
        str,
        typer.Argument(
            help="A run as JSON (the body of POST /v1/runs), any log file, or an MLflow run "
            "(its UI address, or runs:/<id> with MLFLOW_TRACKING_URI set)."
        ),
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="The log format; detected when absent.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit with status 3 when a cause of this kind (problem, benign) or id reaches "
            "the confidence after ':' (default 0.5), e.g. problem:0.7; for CI steps.",
        ),
    ] = None,
) -> None:
    """Diagnose a loss history locally, without a server."""
    gate = _fail_on(fail_on)
    from app import analysis
    from app.analysis.document import history_from_document
    from app.responses import dumps

    document = _read_run(file, fmt)
    try:
        history = history_from_document(document)
    except (ValueError, KeyError, TypeError) as exc:
        raise typer.BadParameter(f"{file} holds no usable history: {exc}") from exc
    result = {"status": "complete", "engine_version": analysis.engine_version()}
    diagnosis = analysis.diagnose(history)
    result.update(diagnosis.to_dict())
    if as_json:
        typer.echo(dumps(result).decode())
    else:
        from app.terminal import show

        show(result, document["epochs"], str(file))
    if gate is not None:
        what, confidence = gate
        hits = [
            c for c in diagnosis.causes if what in (c.kind, c.id) and c.confidence >= confidence
        ]
        if hits:
            names = ", ".join(f"{c.id} ({c.confidence:.2f})" for c in hits)
            typer.echo(f"--fail-on {what}:{confidence:g}: {names}", err=True)
            raise typer.Exit(FAIL_EXIT)


def _run_target(run: str, url: str) -> tuple[str, str]:
    """(server, run id) from a run id or a run's address (http://host/v1/runs/<id>)."""
    marker = "/v1/runs/"
    if marker in run:
        base, _, rest = run.partition(marker)
        return base, rest.strip("/").split("/")[0]
    return url, run


def _auth(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _fetch_report(client: Any, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A stored run's diagnosis and its epoch rows, for the terminal report."""
    diagnosis = client.get(f"/v1/runs/{run_id}/diagnosis").json()
    run = client.get(f"/v1/runs/{run_id}", params={"include_steps": "false"}).json()
    return diagnosis, run["epochs"]


def _api_error(response: Any) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    return f"{response.status_code}: {error.get('message') or response.text[:200]}"


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
    url: Annotated[
        str, typer.Option(envvar="LOSSGAP_URL", help="The lossgap server.")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(envvar="LOSSGAP_API_KEY")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the job.")] = 3600.0,
) -> None:
    """Upload a run's model and data, re-evaluate them on a worker and show the diagnosis."""
    import time

    import httpx
    from rich.progress import Progress

    from app.terminal import show

    server, run_id = _run_target(run, url)
    try:
        with httpx.Client(base_url=server, headers=_auth(api_key), timeout=120) as client:
            for kind, path in (("model", model), ("data", data)):
                response = client.post(
                    f"/v1/runs/{run_id}/artifacts",
                    data={"kind": kind},
                    files={"file": (path.name, path.read_bytes())},
                )
                if response.status_code != 201:
                    typer.echo(f"upload of the {kind} failed ({_api_error(response)})", err=True)
                    raise typer.Exit(1)
            response = client.post(
                f"/v1/runs/{run_id}/reevaluations", json={"loss": loss, "device": device}
            )
            if response.status_code not in (200, 201, 202):
                typer.echo(f"the re-evaluation was refused ({_api_error(response)})", err=True)
                raise typer.Exit(1)
            job_id = response.json()["job_id"]
            deadline = time.monotonic() + timeout
            with Progress(transient=True) as bar:
                task = bar.add_task("re-evaluating", total=1.0)
                while True:
                    job = client.get(f"/v1/jobs/{job_id}").json()
                    bar.update(task, completed=job["progress"])
                    if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
                        break
                    time.sleep(JOB_POLL_SECONDS)
            if job["status"] != "succeeded":
                why = job["error"] or f"still {job['status']} after {timeout:g} s"
                typer.echo(f"job {job_id}: {why}", err=True)
                raise typer.Exit(1)
            diagnosis, epochs = _fetch_report(client, run_id)
    except (httpx.HTTPError, OSError) as exc:
        typer.echo(f"cannot reach {server}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"job {job_id} re-evaluated run {run_id}")
    show(diagnosis, epochs, f"{server}/v1/runs/{run_id}")


@cli.command("import")
def import_(
    file: Annotated[
        str,
        typer.Argument(
            help="A log file a training tool wrote, or an MLflow run (its UI address, or "
            "runs:/<id> with MLFLOW_TRACKING_URI set): the server fetches it."
        ),
    ],
    url: Annotated[
        str, typer.Option(envvar="LOSSGAP_URL", help="The lossgap server.")
    ] = "http://127.0.0.1:8000",
    fmt: Annotated[
        str | None, typer.Option("--format", help="The log format; detected when absent.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Run name; default: the file name.")] = None,
    api_key: Annotated[str | None, typer.Option(envvar="LOSSGAP_API_KEY")] = None,
) -> None:
    """Upload a log file to a running server (POST /v1/imports) and show its diagnosis."""
    import httpx

    from app.terminal import show

    data = {k: v for k, v in (("format", fmt), ("name", name)) if v}
    ref = _mlflow_ref(file)
    try:
        with httpx.Client(base_url=url, headers=_auth(api_key), timeout=120) as client:
            if ref is not None:
                body = {"run": ref.run_id, "tracking_uri": ref.tracking_uri, "name": name}
                body["token"] = os.environ.get("MLFLOW_TRACKING_TOKEN") or None
                response = client.post("/v1/imports/mlflow", json=body)
            else:
                path = Path(file)
                response = client.post(
                    "/v1/imports", files={"file": (path.name, path.read_bytes())}, data=data
                )
            if response.status_code != 201:
                error = response.json().get("error", {}) if response.content else {}
                typer.echo(
                    f"import failed ({response.status_code}): {error.get('message')}", err=True
                )
                raise typer.Exit(1)
            created = response.json()
            run_id = created["id"]
            diagnosis, epochs = _fetch_report(client, run_id)
    except (httpx.HTTPError, OSError) as exc:
        typer.echo(f"cannot reach {url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"run {run_id} ({created['format']}, {created['epoch_count']} epochs)")
    for note in created["notes"]:
        typer.echo(f"  note: {note}")
    show(diagnosis, epochs, f"{url}/v1/runs/{run_id}")


@db.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema to REVISION (default: the latest)."""
    from app.db import migrate

    settings = _configured()
    migrate.upgrade(settings, revision)


@db.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. -1 or base")]) -> None:
    """Downgrade the schema to REVISION."""
    from app.db import migrate

    settings = _configured()
    migrate.downgrade(settings, revision)


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the latest one."""
    from app.db import migrate
    from app.db.engine import make_engine

    settings, _ = _settings()
    engine = make_engine(settings)
    try:
        typer.echo(f"database: {migrate.current_revision(engine)}")
        typer.echo(f"latest:   {migrate.head_revision(settings)}")
    finally:
        engine.dispose()


def main() -> None:
    cli()
