"""Write lossgap's answer into a TensorBoard log dir: a text summary (`lossgap/diagnosis`) in an
event file of its own beside the scalars, at the run's last epoch, so TensorBoard's Text tab
shows the verdict, the summary and the top causes next to the curves.

Written with the `tensorboard` package's own event writer and text summary (no TensorFlow).
Importers skip text summaries, so a log dir reads the same after a write-back."""

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lossgap_client.verdict import TOP_CAUSES, verdict

TAG = "lossgap/diagnosis"
SUFFIX = ".lossgap"


def markdown(diagnosis: Mapping[str, Any]) -> str:
    rows = [
        f"| {c['id']} | {c['kind']} | {c['confidence']:.2f} |"
        for c in list(diagnosis.get("causes", []))[:TOP_CAUSES]
    ]
    return "\n".join(
        [
            f"**{verdict(diagnosis)}**",
            "",
            str(diagnosis.get("summary", "")),
            "",
            "| cause | kind | confidence |",
            "|---|---|---|",
            *rows,
            "",
            f"lossgap engine {diagnosis.get('engine_version', '')}",
        ]
    )


def write_back(logdir: Path, diagnosis: Mapping[str, Any], step: int) -> Path:
    """The event file written."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.text.summary_v2 import text_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    before = set(logdir.glob(f"*{SUFFIX}"))
    writer = EventFileWriter(str(logdir), filename_suffix=SUFFIX)
    try:
        writer.add_event(
            event_pb2.Event(
                wall_time=time.time(), step=step, summary=text_pb(TAG, markdown(diagnosis))
            )
        )
    finally:
        writer.close()
    (written,) = set(logdir.glob(f"*{SUFFIX}")) - before
    return written
