"""The `lossgap` command: serve the API, run a worker, diagnose, import and re-evaluate runs,
manage the schema. Importing the command modules registers them on `cli`, in the order `--help`
lists them."""

# isort: off
from app.cli import server, diagnose, remote, keys
from app.cli.root import FAIL_EXIT, cli

# isort: on

__all__ = ["FAIL_EXIT", "cli", "diagnose", "keys", "main", "remote", "server"]


def main() -> None:
    cli()
