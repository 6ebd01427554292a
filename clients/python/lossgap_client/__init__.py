"""The lossgap client: `Client(url).create_run(...)`, then `run.log_epoch(...)` while training."""

from lossgap_client.client import Client, Run

__all__ = ["Client", "Run"]
