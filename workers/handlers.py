"""The job kinds this worker can run, by name.

Re-evaluation needs torch (the `worker` extra). Without it the worker still starts and fails such
jobs with a message saying what to install, instead of refusing to start the whole service.
"""

import logging
from typing import Any

from workers.runner import JobContext, JobFailed, JobHandler

log = logging.getLogger("lossgap.worker")


def _torch_missing(error: ImportError) -> JobHandler:
    def handler(ctx: JobContext) -> dict[str, Any]:
        raise JobFailed(
            f"This worker cannot re-evaluate models: {error}. Install the worker extra "
            "(`pip install 'lossgap[worker]'`, which brings torch) and restart it."
        )

    return handler


HANDLERS: dict[str, JobHandler]
try:
    from workers.reevaluate.handler import reevaluate

    HANDLERS = {"reevaluate": reevaluate}
except ImportError as exc:  # torch is an optional extra
    log.warning("re-evaluation disabled in this process: %s", exc)
    HANDLERS = {"reevaluate": _torch_missing(exc)}
