"""The verdict in the W&B run the training script already has open.

When the script uses Weights & Biases (`wandb.init()` before training ends), the run's summary
gets `lossgap/verdict`, `lossgap/summary`, `lossgap/causes`, `lossgap/confidence/<cause>` and
`lossgap/run`, so the answer sits beside the curves in the W&B UI and can be a column in its run
tables. wandb is never imported here: only a script that imported it has a run to write to."""

import logging
import sys
from collections.abc import Mapping
from typing import Any

from lossgap_client.verdict import entries

log = logging.getLogger("lossgap_client")


def to_wandb(diagnosis: Mapping[str, Any], run_url: str) -> bool:
    """Whether a W&B run was there and took the entries; never raises (training is done)."""
    wandb = sys.modules.get("wandb")
    run = getattr(wandb, "run", None) if wandb is not None else None
    if run is None:
        return False
    try:
        run.summary.update(entries(diagnosis, run_url, sep="/"))
    except Exception as exc:  # a tracker's failure must not fail the training script
        log.warning("lossgap: could not write the verdict to the W&B run: %s", exc)
        return False
    return True
