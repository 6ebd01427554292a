"""Assemble the probe report (the nine parts of the re-evaluation) from a model and data.

One implementation for both producers: the workers (TorchScript model and uploaded arrays) and
`probe()` in the user's own process. Both get the typed `ProbeReport` (api.md §5) the server
validates and its analysis reads.

Eval-mode passes score with the plain criterion (how validation loss is measured); train-mode
passes with the training criterion (label smoothing included) at the training batch size, which
is what the reported training loss measured. Progress is reported by stage (`progress.py`), and
the caller's cancellation check runs between batches.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats

from lossgap_client.probe import leakage, noise, permutation, shift
from lossgap_client.probe.data import Data
from lossgap_client.probe.errors import ProbeError
from lossgap_client.probe.losses import criterion
from lossgap_client.probe.passes import (
    Mode,
    PassResult,
    is_batchnorm,
    is_dropout,
    output_width,
    score,
)
from lossgap_client.probe.progress import FIRST_GUESS_SECONDS_PER_SAMPLE, Progress, Reporter, Stage
from lossgap_client.probe_report import ProbeReport

Report = dict[str, Any]


Z95 = 1.959963984540054
# What the statistics after the scoring passes cost on a CPU, for the progress shares.
HISTOGRAM_BINS = 40
HISTOGRAM_TOP = 0.995  # the bins span the pooled losses up to this quantile; larger ones go last
SECONDS_PER_PERMUTED_VALUE = 2e-8
SECONDS_PER_SIMILARITY = 3e-11  # one multiply-add of the copy search
SHIFT_SECONDS = 0.2
PASSES = {
    "train_eval": "scoring the training set in eval mode",
    "val_eval": "scoring the validation set in eval mode",
    "train_train_mode": "scoring training samples in train mode",
    "val_train_mode": "scoring validation samples in train mode",
    "train_dropout_only": "scoring training samples with dropout only",
    "train_batchnorm_only": "scoring training samples with batch statistics only",
    "train_raw_eval": "scoring the training inputs without augmentation",
}


@dataclass(frozen=True)
class Settings:
    loss: str
    label_smoothing: float
    batch_size: int
    eval_batch_size: int
    permutations: int
    near_threshold: float
    task: str
    reported_train: float | None
    reported_val: float | None
    train_mode_samples: int = 10_000  # train-mode passes estimate means: a subsample suffices
    source: str = "worker"


def summary(values: np.ndarray) -> Report:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        raise ProbeError(
            "Every per-sample loss was NaN or infinite: the model's outputs do not fit the loss "
            "named in the request (check `loss`, and that labels match the model's outputs)."
        )
    se = float(finite.std(ddof=1) / math.sqrt(len(finite))) if len(finite) > 1 else 0.0
    return {"mean": float(finite.mean()), "se": se, "n": len(finite)}


def interval(value: float, se: float) -> Report:
    return {"value": value, "ci_low": value - Z95 * se, "ci_high": value + Z95 * se}


def _check_labels(data: Data, loss: str, width: int) -> None:
    top = int(max(data.y_train.max(), data.y_val.max()))
    if loss in ("cross_entropy", "nll") and top >= width:
        raise ProbeError(
            f"Labels out of range: the labels hold class id {top} but the model outputs {width} "
            f"classes (ids 0..{width - 1}); upload the labels the model was trained on."
        )
    if loss == "bce" and not np.isin(np.union1d(data.y_train, data.y_val), (0, 1)).all():
        raise ProbeError("Labels out of range: `bce` needs 0/1 targets.")


def build(
    model: torch.nn.Module,
    data: Data,
    s: Settings,
    device: torch.device,
    report: Reporter,
    check: Callable[[], None],
) -> ProbeReport:
    """The report; `report(share, stage)` hears where it is, `check()` may cancel it."""
    crit = criterion(s.loss)
    train_crit = criterion(s.loss, s.label_smoothing)
    width = output_width(model, data.x_val, device)
    if crit.classification:
        _check_labels(data, s.loss, width)
    modules = list(model.modules())
    has_dropout = any(is_dropout(m) for m in modules)
    has_bn = any(is_batchnorm(m) for m in modules)
    n_train, n_val = len(data.x_train), len(data.x_val)
    both = has_dropout and has_bn
    sub = _subsample(n_train, s.train_mode_samples)
    sub_val = _subsample(n_val, s.train_mode_samples)
    samples = {
        "train_eval": n_train,
        "val_eval": n_val,
        "train_train_mode": len(sub),
        "val_train_mode": len(sub_val),
        "train_dropout_only": len(sub) if both else 0,
        "train_batchnorm_only": len(sub) if both else 0,
        "train_raw_eval": n_train if data.x_train_raw is not None else 0,
    }
    width_in = min(int(np.prod(data.x_train.shape[1:])), leakage.PROJECTED)
    progress = Progress(
        [
            *(
                Stage(key, PASSES[key], count, FIRST_GUESS_SECONDS_PER_SAMPLE, scoring=True)
                for key, count in samples.items()
                if count
            ),
            Stage(
                "shuffled_split",
                "testing the split against shuffled splits",
                1.0,
                SECONDS_PER_PERMUTED_VALUE
                * permutation.sampled_values(n_train + n_val, s.permutations),
            ),
            Stage(
                "leakage",
                "searching the training set for copies of validation samples",
                1.0,
                SECONDS_PER_SIMILARITY * n_train * n_val * width_in,
            ),
            Stage("split_shift", "measuring the shift between the splits", 1.0, SHIFT_SECONDS),
        ],
        report,
        check,
    )
    seconds: dict[str, float] = {}

    def run(x: np.ndarray, y: np.ndarray, mode: Mode, name: str) -> PassResult:
        progress.start(name)
        start = time.perf_counter()
        train_mode = mode != "eval"
        # Only batch statistics depend on the batch size: without them, batch as in eval.
        batch_statistics = has_bn and mode in ("train", "batchnorm_only")
        result = score(
            model,
            x,
            y,
            train_crit if train_mode else crit,
            device,
            s.batch_size if batch_statistics else s.eval_batch_size,
            mode,
            progress.tick,
            probabilities=name in ("train_eval", "val_eval", "train_raw_eval"),
        )
        seconds[name] = time.perf_counter() - start
        progress.timed(name, seconds[name])
        return result

    x_sub, y_sub = data.x_train[sub], data.y_train[sub]
    train_eval = run(data.x_train, data.y_train, "eval", "train_eval")
    val_eval = run(data.x_val, data.y_val, "eval", "val_eval")
    train_train = run(x_sub, y_sub, "train", "train_train_mode")
    val_train = run(data.x_val[sub_val], data.y_val[sub_val], "train", "val_train_mode")
    dropout_only = bn_only = raw = None
    if both:
        dropout_only = run(x_sub, y_sub, "dropout_only", "train_dropout_only")
        bn_only = run(x_sub, y_sub, "batchnorm_only", "train_batchnorm_only")
    if data.x_train_raw is not None:
        raw = run(data.x_train_raw, data.y_train, "eval", "train_raw_eval")
    passes = dict(
        train_eval=summary(train_eval.losses),
        val_eval=summary(val_eval.losses),
        train_train_mode=summary(train_train.losses),
        val_train_mode=summary(val_train.losses),
        train_dropout_only=summary(dropout_only.losses) if dropout_only else None,
        train_batchnorm_only=summary(bn_only.losses) if bn_only else None,
        train_raw_eval=summary(raw.losses) if raw else None,
    )
    progress.start("shuffled_split")
    start = time.perf_counter()
    # Whether validation differs from a random split of the pooled samples is a question about
    # the splits too: an augmented draw scores worse by the augmentation itself.
    train_losses = (raw or train_eval).losses
    split = permutation.test(train_losses, val_eval.losses, s.permutations, tick=progress.tick)
    seconds["shuffled_split"] = time.perf_counter() - start
    # Copies and shift are questions about the splits, so they compare the training inputs
    # before augmentation when they were given: an augmented draw differs from validation by
    # the augmentation itself, and hides copies of validation samples.
    inputs = data.x_train_raw if data.x_train_raw is not None else data.x_train
    progress.start("leakage")
    start = time.perf_counter()
    dups = leakage.find(inputs, data.x_val, device, s.near_threshold, tick=progress.tick)
    chance = leakage.chance_copies(inputs, device, s.near_threshold, len(data.x_val))
    seconds["leakage"] = time.perf_counter() - start
    progress.start("split_shift")
    start = time.perf_counter()
    shifted = shift.measure(
        inputs,
        data.y_train,
        data.x_val,
        data.y_val,
        crit.classification,
        device,
        tick=progress.tick,
    )
    seconds["split_shift"] = time.perf_counter() - start
    report(1.0, "report built")
    body = dict(
        source=s.source,
        task="classification" if crit.classification else "regression",
        loss=s.loss,
        label_smoothing=s.label_smoothing,
        batch_size=s.batch_size,
        device=str(device),
        n_train=n_train,
        n_val=n_val,
        subsampled=data.subsampled,
        model=dict(
            has_dropout=has_dropout,
            has_batchnorm=has_bn,
            # The trainable ones (TorchScript keeps requires_grad): frozen layers give a model
            # no room to fit its training set.
            parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
            outputs=width,
        ),
        passes=passes,
        decomposition=_decomposition(s, passes, train_eval, raw),
        shuffled_split={**vars(split), "raw_inputs": raw is not None},
        leakage=_leakage(dups, val_eval.losses, s.near_threshold, chance),
        split_shift={**vars(shifted), "raw_inputs": data.x_train_raw is not None},
        loss_recompute=_recompute(s, passes),
        label_noise=noise.measure(
            raw or train_eval,
            val_eval,
            data.y_train,
            data.y_val,
            s.loss,
            crit.classification,
            raw is not None,
        ),
        histograms=histograms(train_eval.losses, val_eval.losses),
        seconds={k: round(v, 4) for k, v in seconds.items()},
    )
    return ProbeReport.model_validate(body)


def histograms(train: np.ndarray, val: np.ndarray, bins: int = HISTOGRAM_BINS) -> Report | None:
    """Both splits' per-sample losses over shared bins spanning the pooled losses up to their
    99.5th percentile (a few huge losses would squeeze everything else into one bin)."""
    pooled = np.concatenate([train, val])
    pooled = pooled[np.isfinite(pooled)]
    if len(pooled) == 0:
        return None
    low, high = float(pooled.min()), float(np.quantile(pooled, HISTOGRAM_TOP))
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)

    def count(values: np.ndarray) -> list[int]:
        finite = np.clip(values[np.isfinite(values)], low, edges[-1])
        return [int(c) for c in np.histogram(finite, edges)[0]]

    return {"edges": [round(float(e), 6) for e in edges], "train": count(train), "val": count(val)}


def _subsample(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """Up to `limit` indices in their original order (batch composition follows the data's)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def _decomposition(
    s: Settings, passes: Report, train_eval: PassResult, raw: PassResult | None
) -> Report:
    te, ve = passes["train_eval"], passes["val_eval"]
    augmentation = None
    if raw is not None:
        diff = train_eval.losses - raw.losses
        diff = diff[np.isfinite(diff)]
        se = float(diff.std(ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else 0.0
        augmentation = interval(float(diff.mean()), se)
    return dict(
        reported_train=s.reported_train,
        reported_val=s.reported_val,
        train_time_effect=(
            interval(s.reported_train - te["mean"], te["se"])
            if s.reported_train is not None
            else None
        ),
        eval_gap=interval(te["mean"] - ve["mean"], math.hypot(te["se"], ve["se"])),
        augmentation_effect=augmentation,
    )


def _leakage(
    dups: leakage.Duplicates,
    val_losses: np.ndarray,
    threshold: float,
    chance: tuple[float, int] | None,
) -> Report:
    leaked = dups.near
    # Losses compared only where finite, as every summary is: a model that overflows on some
    # samples still has its copies found, and their losses compared on the rest.
    finite = np.isfinite(val_losses)
    copied, clean = val_losses[leaked & finite], val_losses[~leaked & finite]
    p_value = None
    if len(copied) >= 2 and len(clean) >= 2:
        p_value = float(stats.mannwhitneyu(copied, clean, alternative="less").pvalue)
    order = np.argsort(-dups.similarity)[: min(10, int(leaked.sum()))]
    return dict(
        exact_duplicates=int(dups.exact.sum()),
        near_duplicates=int(leaked.sum()),
        leaked_fraction=float(leaked.mean()),
        threshold=threshold,
        leaked_val_loss=float(copied.mean()) if len(copied) else None,
        clean_val_loss=float(clean.mean()) if len(clean) else None,
        p_value=p_value,
        chance_fraction=chance[0] if chance else None,
        chance_sample=chance[1] if chance else None,
        examples=[(int(i), int(dups.match[i]), round(float(dups.similarity[i]), 6)) for i in order],
    )


def _log_ratio(reported: float | None, recomputed: float) -> float | None:
    if reported is None or reported <= 0 or recomputed <= 0:
        return None
    return math.log(reported / recomputed)


def _recompute(s: Settings, passes: Report) -> Report:
    train = passes["train_train_mode"] or passes["train_eval"]
    return dict(
        train_reported=s.reported_train,
        train_recomputed=train["mean"],
        train_log_ratio=_log_ratio(s.reported_train, train["mean"]),
        val_reported=s.reported_val,
        val_recomputed=passes["val_eval"]["mean"],
        val_log_ratio=_log_ratio(s.reported_val, passes["val_eval"]["mean"]),
    )
