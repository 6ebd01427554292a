"""The worker's probe report: the client library's report core, typed by its `ProbeReport`.

The computation lives in `lossgap_client.probe` so that `probe()` in a user's process and the
workers produce the same report from the same code; here its errors become job failures.
"""

from collections.abc import Callable

import torch
from lossgap_client.probe.data import Data
from lossgap_client.probe.errors import ProbeError
from lossgap_client.probe.report import Settings
from lossgap_client.probe.report import build as build_report
from lossgap_client.probe_report import ProbeReport

from workers.reevaluate.errors import ReevaluationError

__all__ = ["Settings", "build"]


def build(
    model: torch.nn.Module,
    data: Data,
    s: Settings,
    device: torch.device,
    report: Callable[[float, str], None],
    check: Callable[[], None],
) -> ProbeReport:
    try:
        return build_report(model, data, s, device, report, check)
    except ProbeError as exc:
        raise ReevaluationError(str(exc)) from exc
