"""Peak memory of reading a run's JSON body of step rows, as a multiple of the body's size.

    PYTHONPATH=. .venv/bin/python bench/body_memory.py [MiB]

Builds `POST /v1/runs` bodies of tiny step rows (`{"step": 12, "train_loss": 0.5}`, the worst
case: the most rows per byte) and typical ones (with `epoch` and `lr`), then measures with
tracemalloc (numpy's buffers included) what reading one costs, from the body's bytes to the
validated run and its step table:

- baseline: `json.loads`, pydantic on the whole document, `from_rows` (what FastAPI did);
- streamed: `app.runs.streamed.loads` (rows become columns as they are read), the same
  validation, the step table.

The body itself is counted (the server holds it while parsing). Target: streamed ≤ 3x the body.
"""

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from app.config import Settings
from app.runs import service, steps, streamed
from app.runs.schemas import RunCreate

MiB = 1024 * 1024
TARGET_RATIO = 3.0
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


def body_of(mib: float, typical: bool) -> bytes:
    rows = []
    size, i = 0, 0
    while size < mib * MiB:
        row: dict[str, Any] = {"step": i, "train_loss": round(1 / (i + 1), 6)}
        if typical:
            row |= {"epoch": round(i / 1000, 4), "lr": 0.001}
        rows.append(row)
        size += len(json.dumps(row)) + 2
        i += 1
    return json.dumps({"name": "bench", "epochs": [{"epoch": 0, "train_loss": 1}], "steps": rows})


def baseline(body: bytes) -> int:
    run = RunCreate.model_validate(json.loads(body))
    return len(steps.from_rows(run.steps, SETTINGS.max_metrics_per_row))  # type: ignore[arg-type]


def streamed_read(body: bytes) -> int:
    run = RunCreate.model_validate(streamed.loads(body, SETTINGS.max_metrics_per_row))
    table = service._step_table(run.steps, SETTINGS)
    return 0 if table is None else len(table)


def measure(read: Callable[[bytes], int], body: bytes) -> tuple[float, float, int]:
    """Peak memory over the body size (one traced read) and seconds (one untraced read)."""
    gc.collect()
    started = time.perf_counter()
    rows = read(body)
    seconds = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    read(body)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak + len(body)) / len(body), seconds, rows


def main() -> None:
    mib = float(sys.argv[1]) if len(sys.argv) > 1 else 32.0
    print(f"{'body':>28} {'rows':>10} {'baseline':>18} {'streamed':>18} {'memory saved':>12}")
    worst = 0.0
    for typical in (False, True):
        body = body_of(mib, typical).encode()
        old, old_s, rows = measure(baseline, body)
        new, new_s, same = measure(streamed_read, body)
        assert rows == same
        worst = max(worst, new)
        kind = "typical rows" if typical else "tiny rows"
        print(
            f"{kind:>14} {len(body) / MiB:8.1f} MiB {rows:>10,} "
            f"{old:7.1f}x {old_s:6.2f} s {new:9.1f}x {new_s:6.2f} s {old / new:10.1f}x"
        )
    verdict = "met" if worst <= TARGET_RATIO else "NOT met"
    print(f"streamed peak: {worst:.1f}x the body (target ≤ {TARGET_RATIO:g}x): {verdict}")


if __name__ == "__main__":
    main()
