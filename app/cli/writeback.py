"""`--write-back` on `lossgap diagnose`: the answer goes where the run came from, a TensorBoard
log dir (a text summary beside the scalars) or an MLflow run (tags and artifacts, written from
this machine with MLFLOW_TRACKING_* credentials)."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from app.cli.sources import mlflow_auth, mlflow_ref

MLFLOW_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Target:
    logdir: Path | None = None
    mlflow: Any = None  # an MLflow RunRef


def target(source: str) -> Target:
    """Where SOURCE's answer can go; a usage error, before any work, when nowhere."""
    path = Path(source)
    if path.is_dir() and any("tfevents" in p.name for p in path.rglob("*")):
        return Target(logdir=path)
    ref = mlflow_ref(source)
    if ref is not None:
        return Target(mlflow=ref)
    raise typer.BadParameter(
        "--write-back writes to where the run came from: a TensorBoard log dir or an MLflow "
        "run (its UI address, or runs:/<id> with MLFLOW_TRACKING_URI set)"
    )


def write(to: Target, diagnosis: dict[str, Any], epochs: list[dict[str, Any]]) -> str:
    """What was written, in a line for the terminal."""
    if to.logdir is not None:
        from app.writeback import tensorboard

        last = max((int(row["epoch"]) for row in epochs), default=0)
        written = tensorboard.write_back(to.logdir, diagnosis, last)
        return f"wrote {tensorboard.TAG} (TensorBoard's Text tab) to {written}"
    from app.imports.mlflow_server import UpstreamError
    from app.writeback import mlflow

    try:
        done = mlflow.write_back(
            to.mlflow,
            diagnosis,
            epochs,
            run_url=None,
            timeout=MLFLOW_TIMEOUT_SECONDS,
            auth=mlflow_auth(),
        )
    except UpstreamError as exc:
        typer.echo(f"write-back failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    files = ", ".join(done.artifacts) or "no artifacts"
    lines = [f"wrote {len(done.tags)} tags and {files} to MLflow run {to.mlflow.run_id}"]
    return "\n".join([*lines, *(f"  note: {n}" for n in done.notes)])
