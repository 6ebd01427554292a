"""Re-evaluation speed: the worker's model passes, the whole probe report and the near-duplicate
search, each against plain PyTorch doing the same work in the same process.

    python bench/reeval_speed.py                      # 20,000 train + 5,000 val, 256 features
    python bench/reeval_speed.py --quick              # small sizes, a smoke run
    python bench/reeval_speed.py --device cuda --repeats 5

A probe report should cost the model passes it needs and little else, so every number is read
against a baseline measured here, on the same TorchScript module and data:

1. each pass of `passes.score` (eval on train and val, train / dropout-only / batch-norm-only
   mode on train at the training batch size) against a hand-written inference loop with the same
   batches; samples/s of both and their ratio (target: worker >= 0.95 x plain);
2. the whole `report.build` as a multiple of one plain eval pass over train + val (target: <= 4),
   with the seconds per part the report records;
3. `leakage.nearest` over `--near` x `--near` samples against a chunked matmul + max without
   the search's bookkeeping and, where memory permits, one plain `x_val @ x_train.T`: seconds,
   GFLOP/s (2 n m d / seconds) and the ratios.

Worker and plain repeats are interleaved, so background load hits both; times are medians of
`--repeats`, and a ratio of two calls run back to back is the median of their per-repeat ratios.
CPU runs use one thread unless `--threads` says otherwise (0: torch's default): on a shared
machine several threads per process oversubscribe the cores and single timings then vary
several-fold, which no ratio survives. On CUDA both sides run the model under bf16 autocast, as
the worker does. Numbers only; nothing is asserted.
"""

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lossgap_client.probe import leakage, report
from lossgap_client.probe.data import Data
from lossgap_client.probe.losses import criterion
from lossgap_client.probe.passes import Mode, batches, is_batchnorm, is_dropout, score, untouched

from workers.reevaluate.load import pick_device

CLASSES = 10
HIDDEN = 512
EVAL_BATCH = 512
TRAIN_BATCH = 64
PASS_TARGET = 0.95
REPORT_TARGET = 4.0
PASS_PARTS = (
    "train_eval",
    "val_eval",
    "train_train_mode",
    "val_train_mode",
    "train_dropout_only",
    "train_batchnorm_only",
)


class Sizes(NamedTuple):
    train: int
    val: int
    dim: int
    near: int
    repeats: int


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(repeats: int, *calls: Callable[[], object]) -> list[list[float]]:
    """Seconds of each call per repeat; one warm-up each, then the calls in rotating order."""
    for call in calls:
        call()
    times: list[list[float]] = [[] for _ in calls]
    for r in range(repeats):
        for k in range(len(calls)):
            side = (k + r) % len(calls)
            started = time.perf_counter()
            calls[side]()
            times[side].append(time.perf_counter() - started)
    return times


def median(values: list[float]) -> float:
    return float(np.median(values))


def paired(slow: list[float], fast: list[float]) -> float:
    """Median over repeats of slow / fast, each pair run back to back (load cancels out)."""
    return median([s / f for s, f in zip(slow, fast, strict=True)])


def synthetic(n_train: int, n_val: int, dim: int, seed: int = 0) -> Data:
    """Gaussian classes, with 1% of the validation rows near-copies of training rows."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, (CLASSES, dim))
    y_train = rng.integers(0, CLASSES, n_train)
    y_val = rng.integers(0, CLASSES, n_val)
    x_train = centers[y_train] + rng.normal(0, 2, (n_train, dim))
    x_val = centers[y_val] + rng.normal(0, 2, (n_val, dim))
    copies = rng.choice(n_val, max(1, n_val // 100), replace=False)
    source = rng.choice(n_train, len(copies), replace=False)
    x_val[copies] = x_train[source] + rng.normal(0, 1e-3, (len(copies), dim))
    y_val[copies] = y_train[source]
    return Data(x_train.astype(np.float32), y_train, x_val.astype(np.float32), y_val, None, False)


def uploaded_mlp(dim: int, device: torch.device) -> torch.jit.ScriptModule:
    """An MLP with batch norm and dropout, scripted, saved and loaded the way uploads are."""
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    width = dim
    for _ in range(2):
        layers += [
            torch.nn.Linear(width, HIDDEN),
            torch.nn.BatchNorm1d(HIDDEN),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.2),
        ]
        width = HIDDEN
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, CLASSES))
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(model), buffer)
    buffer.seek(0)
    loaded: torch.jit.ScriptModule = torch.jit.load(  # type: ignore[no-untyped-call]
        buffer, map_location=device
    )
    return loaded


def plain_pass(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    device: torch.device,
    batch_size: int,
    mode: Mode,
    dropouts: list[torch.nn.Module],
    norms: list[torch.nn.Module],
) -> torch.Tensor:
    """Per-sample cross-entropy the straightforward way: no snapshots, no probabilities."""
    model.train(mode == "train")
    on = {"dropout_only": dropouts, "batchnorm_only": norms}.get(mode, [])
    for module in on:
        module.train()
    cuda = device.type == "cuda"
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext()
    losses = []
    with torch.inference_mode():
        for start, end in batches(len(x), batch_size):
            xb, yb = x[start:end].to(device), y[start:end].to(device)
            with autocast:
                out = model(xb)
            losses.append(F.cross_entropy(out.float(), yb, reduction="none"))
    return torch.cat(losses).cpu()


def plain_kept(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    device: torch.device,
    batch_size: int,
    mode: Mode,
    dropouts: list[torch.nn.Module],
    norms: list[torch.nn.Module],
) -> torch.Tensor:
    """`plain_pass` with the running statistics restored afterwards, outside its own work."""
    with untouched(model):
        return plain_pass(model, x, y, device, batch_size, mode, dropouts, norms)


def bench_passes(
    model: torch.jit.ScriptModule, data: Data, device: torch.device, repeats: int
) -> float:
    modules = list(model.modules())
    dropouts = [m for m in modules if is_dropout(m)]
    norms = [m for m in modules if is_batchnorm(m)]
    crit = criterion("cross_entropy")
    cases: list[tuple[str, str, Mode, int]] = [
        ("eval", "train", "eval", EVAL_BATCH),
        ("eval", "val", "eval", EVAL_BATCH),
        ("train", "train", "train", TRAIN_BATCH),
        ("dropout_only", "train", "dropout_only", TRAIN_BATCH),
        ("batchnorm_only", "train", "batchnorm_only", TRAIN_BATCH),
    ]
    print(
        f"{'pass':<15} {'split':<6} {'batch':>5} {'samples':>8} {'worker s':>9} {'plain s':>9} "
        f"{'worker/s':>10} {'plain/s':>10} {'ratio':>6} {'max|dloss|':>11}"
    )
    ratios = []
    for name, split, mode, batch_size in cases:
        x = data.x_train if split == "train" else data.x_val
        y = data.y_train if split == "train" else data.y_val
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        worker = partial(score, model, x, y, crit, device, batch_size, mode)
        plain = partial(plain_kept, model, xt, yt, device, batch_size, mode, dropouts, norms)
        worker_times, plain_times = interleaved(repeats, worker, plain)
        worker_s, plain_s = median(worker_times), median(plain_times)
        check = "-"
        if mode in ("eval", "batchnorm_only"):
            check = f"{np.abs(worker().losses - plain().double().numpy()).max():.1e}"
        n = len(x)
        ratio = paired(plain_times, worker_times)
        ratios.append(ratio)
        print(
            f"{name:<15} {split:<6} {batch_size:>5} {n:>8,} {worker_s:9.3f} {plain_s:9.3f} "
            f"{n / worker_s:10,.0f} {n / plain_s:10,.0f} {ratio:6.3f} {check:>11}"
        )
    return min(ratios)


def bench_report(
    model: torch.jit.ScriptModule, data: Data, device: torch.device, repeats: int
) -> float:
    settings = report.Settings(
        loss="cross_entropy",
        label_smoothing=0.0,
        batch_size=TRAIN_BATCH,
        eval_batch_size=EVAL_BATCH,
        permutations=2000,
        near_threshold=0.995,
        task="classification",
        reported_train=0.5,
        reported_val=0.4,
    )
    tensors = [torch.from_numpy(a) for a in (data.x_train, data.y_train, data.x_val, data.y_val)]
    runs: list[dict[str, float]] = []

    def build() -> None:
        started = time.perf_counter()
        built = report.build(
            model, data, settings, device, lambda _share, _stage: None, lambda: None
        )
        runs.append({"total": time.perf_counter() - started, **built.seconds})

    def plain() -> None:
        x_train, y_train, x_val, y_val = tensors
        plain_pass(model, x_train, y_train, device, EVAL_BATCH, "eval", [], [])
        plain_pass(model, x_val, y_val, device, EVAL_BATCH, "eval", [], [])

    report_times, plain_times = interleaved(repeats, build, plain)
    report_s, plain_s = median(report_times), median(plain_times)
    multiple = paired(report_times, plain_times)
    typical = sorted(runs[1:], key=lambda r: r["total"])[len(runs[1:]) // 2]
    print(
        f"\nwhole report {report_s:.3f} s; one plain eval pass over train + val {plain_s:.3f} s; "
        f"report = {multiple:.2f} plain eval passes"
    )
    parts = {k: v for k, v in typical.items() if k != "total"}
    parts["other (setup, summaries, report)"] = typical["total"] - sum(parts.values())
    print(f"\n{'report part (median run)':<34} {'seconds':>8} {'x plain pass':>13}")
    for part, seconds in parts.items():
        print(f"{part:<34} {seconds:8.3f} {seconds / plain_s:13.2f}")
    model_s = sum(v for k, v in parts.items() if k in PASS_PARTS)
    sub = min(len(data.x_train), settings.train_mode_samples)
    sub_val = min(len(data.x_val), settings.train_mode_samples)
    scored = len(data.x_train) + len(data.x_val) + 3 * sub + sub_val
    print(
        f"model passes alone: {model_s:.3f} s = {model_s / plain_s:.2f} plain eval passes, "
        f"scoring {scored / (len(data.x_train) + len(data.x_val)):.1f}x the baseline's samples"
    )
    return multiple


def free_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def bench_nearest(n: int, dim: int, device: torch.device, repeats: int) -> float:
    rng = np.random.default_rng(1)
    x_train = rng.standard_normal((n, dim), dtype=np.float32)
    x_val = rng.standard_normal((n, dim), dtype=np.float32)
    a = F.normalize(torch.from_numpy(x_val).to(device), dim=1)
    b = F.normalize(torch.from_numpy(x_train).to(device), dim=1)

    def search() -> None:
        leakage.nearest(x_train, x_val, device)

    def chunked() -> None:  # the search's own chunks: 2048 validation x 16384 training rows
        with torch.inference_mode():
            for v in range(0, n, 2048):
                for t in range(0, n, 16384):
                    (a[v : v + 2048] @ b[t : t + 16384].T).max(dim=1)
        sync(device)

    def whole() -> None:
        with torch.inference_mode():
            a @ b.T
        sync(device)

    calls: dict[str, Callable[[], None]] = {
        "leakage.nearest": search,
        "chunked matmul + max, no bookkeeping": chunked,
    }
    if 2 * n * n * 4 < free_bytes(device):  # the n x n result, with room to spare
        calls["one x_val @ x_train.T (no max)"] = whole
    times = interleaved(repeats, *calls.values())
    seconds = [median(t) for t in times]
    flop = 2 * n * n * dim
    print(f"\nnear-duplicate search, {n:,} x {n:,} x {dim} on {device}")
    print(f"{'':<38} {'seconds':>8} {'GFLOP/s':>8} {'search/this':>11}")
    for name, spent in zip(calls, seconds, strict=True):
        print(f"{name:<38} {spent:8.3f} {flop / spent / 1e9:8.1f} {seconds[0] / spent:11.2f}")
    return seconds[0] / seconds[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=20_000, help="training samples")
    parser.add_argument("--val", type=int, default=5_000, help="validation samples")
    parser.add_argument("--dim", type=int, default=256, help="input features")
    parser.add_argument("--near", type=int, default=20_000, help="samples per side, leakage")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per side")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads; 0: torch's default")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    args = parser.parse_args()
    sizes = Sizes(args.train, args.val, args.dim, args.near, args.repeats)
    if args.quick:
        sizes = Sizes(2_000, 500, min(args.dim, 64), 2_000, 2)
    device = pick_device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    data = synthetic(sizes.train, sizes.val, sizes.dim)
    model = uploaded_mlp(sizes.dim, device)
    parameters = sum(p.numel() for p in model.parameters())
    print(
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
        f"{sizes.train:,} train + {sizes.val:,} val x {sizes.dim} features; MLP "
        f"{sizes.dim}-{HIDDEN}-{HIDDEN}-{CLASSES} with batch norm and dropout, "
        f"{parameters:,} parameters (TorchScript); medians of {sizes.repeats} repeats\n"
    )
    worst_pass = bench_passes(model, data, device, sizes.repeats)
    multiple = bench_report(model, data, device, sizes.repeats)
    overhead = bench_nearest(sizes.near, sizes.dim, device, sizes.repeats)

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print(
        f"\ntargets: every pass worker/plain >= {PASS_TARGET} (worst {worst_pass:.3f}): "
        f"{verdict(worst_pass >= PASS_TARGET)}; whole report <= {REPORT_TARGET:g} plain eval "
        f"passes ({multiple:.2f}): {verdict(multiple <= REPORT_TARGET)}; near-duplicate search "
        f"bookkeeping: {overhead:.2f}x a chunked matmul + max (no target)"
    )


if __name__ == "__main__":
    main()
