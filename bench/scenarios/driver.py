"""The loop both scenario generators run: every (cause, variant) job in two processes, each kept
run written as one JSON file, each dropped one said out loud.

`generate [--variants FROM:TO] [CAUSE ...]` (re)generates only those causes' runs, and only the
variant indices in [FROM, TO) when given (new indices add runs beside those already stored); the
generators differ in how a run is made and labelled (their `generate` functions), never in how
runs are stored.
"""

import argparse
import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

PROCESSES = 2

Job = tuple[str, int]
Run = dict[str, Any]


def jobs(causes: Iterable[str], variants: int, more: Mapping[str, int]) -> list[Job]:
    """Every variant of the causes named on the command line (all of them when none is); with
    `--variants FROM:TO`, only those indices, for every cause."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", help="FROM:TO, variant indices to generate")
    parser.add_argument("causes", nargs="*")
    args = parser.parse_args()
    only = set(args.causes)
    first, last = (int(x) for x in args.variants.split(":")) if args.variants else (0, None)
    return [
        (cause, v)
        for cause in causes
        if not only or cause in only
        for v in range(first, more.get(cause, variants) if last is None else last)
    ]


def write_runs(
    todo: list[Job],
    generate: Callable[[Job], Run | None],
    folder: Path,
    why_dropped: str,
    describe: Callable[[Run], str],
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    written = dropped = 0
    with ProcessPoolExecutor(PROCESSES) as pool:
        for (cause, variant), run in zip(todo, pool.map(generate, todo), strict=True):
            if run is None:
                dropped += 1
                print(f"dropped {cause}-{variant}: {why_dropped}", flush=True)
                continue
            (folder / f"{run['name']}.json").write_text(json.dumps(run, separators=(",", ":")))
            written += 1
            print(describe(run), flush=True)
    print(f"\n{written} runs written to {folder}, {dropped} dropped")
