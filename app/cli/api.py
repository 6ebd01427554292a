"""Talking to a lossgap server from the command line: the address and key every command takes
(LOSSGAP_URL, LOSSGAP_API_KEY), the bearer header, a run's report and the API's error text."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

DEFAULT_URL = "http://127.0.0.1:8000"
HTTP_TIMEOUT_SECONDS = 120

Url = Annotated[str, typer.Option(envvar="LOSSGAP_URL", help="The lossgap server.")]
ApiKey = Annotated[
    str | None, typer.Option(envvar="LOSSGAP_API_KEY", help="Bearer key, when the server asks.")
]


class ApiFailed(Exception):
    """The server answered with an error; the message is its own."""


def auth(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def api_error(response: Any) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    return f"{response.status_code}: {error.get('message') or response.text[:200]}"


def fetch_report(client: Any, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A stored run's diagnosis and its epoch rows, for the terminal report."""
    responses = (
        client.get(f"/v1/runs/{run_id}/diagnosis"),
        client.get(f"/v1/runs/{run_id}", params={"include_steps": "false"}),
    )
    for response in responses:
        if response.status_code != 200:
            raise ApiFailed(f"run {run_id}: {api_error(response)}")
    diagnosis, run = (response.json() for response in responses)
    return diagnosis, run["epochs"]


@contextmanager
def failures_reported(server: str) -> Iterator[None]:
    """The server's refusal or an unreachable server: one line on stderr, exit status 1."""
    import httpx

    try:
        yield
    except ApiFailed as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except (httpx.HTTPError, OSError) as exc:
        typer.echo(f"cannot reach {server}: {exc}", err=True)
        raise typer.Exit(1) from exc
