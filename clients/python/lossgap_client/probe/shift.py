"""Do the two splits come from the same distribution? (Easier validation, preprocessing.)

Three views: adversarial validation (a cross-validated classifier telling training inputs from
validation inputs: AUC 0.5 means indistinguishable), a test of the label distributions, and a
test per input feature of the mean (Welch) and the spread (Welch on absolute deviations from the
median, i.e. Brown-Forsythe) with Benjamini-Hochberg control over features, reported with the
size of the largest shifts in training standard deviations and log scale ratios.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

MAX_FEATURES = 4096  # per-feature tests look at this many input features at most
ADVERSARIAL_SHARE = 0.8  # of this stage's time: the classifier's folds; the rest feature tests
FEATURE_SAMPLES = 3000  # ...over this many samples per split (ample power for a shift test)
ADVERSARIAL_DIMS = 128  # classifier input: this many (projected) features, and their squares
ADVERSARIAL_SAMPLES = 2500  # per split


@dataclass(frozen=True)
class Shift:
    adversarial_auc: float | None
    label_p_value: float | None
    features_tested: int
    features_shifted: int
    max_abs_mean_shift: float
    median_abs_log_scale_ratio: float
    max_abs_log_scale_ratio: float


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1).astype(np.float64, copy=False)


def feature_tests(
    x_train: np.ndarray, x_val: np.ndarray, seed: int = 0
) -> tuple[int, int, float, float, float]:
    rng = np.random.default_rng(seed)
    a = _flat(x_train[np.sort(rng.permutation(len(x_train))[:FEATURE_SAMPLES])])
    b = _flat(x_val[np.sort(rng.permutation(len(x_val))[:FEATURE_SAMPLES])])
    if a.shape[1] > MAX_FEATURES:
        keep = np.linspace(0, a.shape[1] - 1, MAX_FEATURES).astype(int)
        a, b = a[:, keep], b[:, keep]
    sd_a, sd_b = a.std(axis=0), b.std(axis=0)
    usable = (sd_a > 0) & (sd_b > 0)
    if not usable.any():
        return 0, 0, 0.0, 0.0, 0.0
    a, b, sd_a, sd_b = a[:, usable], b[:, usable], sd_a[usable], sd_b[usable]
    p_mean = stats.ttest_ind(a, b, axis=0, equal_var=False).pvalue
    median = np.median(np.concatenate([a, b]), axis=0)
    p_spread = stats.ttest_ind(
        np.abs(a - median), np.abs(b - median), axis=0, equal_var=False
    ).pvalue
    p = np.minimum(
        1.0, 2 * np.minimum(np.nan_to_num(p_mean, nan=1.0), np.nan_to_num(p_spread, nan=1.0))
    )
    shifted = int((stats.false_discovery_control(p) < 0.05).sum())
    mean_shift = np.abs(b.mean(axis=0) - a.mean(axis=0)) / sd_a
    log_scale = np.abs(np.log(sd_b / sd_a))
    return (
        int(a.shape[1]),
        shifted,
        float(mean_shift.max()),
        float(np.median(log_scale)),
        float(log_scale.max()),
    )


def label_test(y_train: np.ndarray, y_val: np.ndarray, classification: bool) -> float | None:
    if not classification:
        return float(stats.ks_2samp(y_train.ravel(), y_val.ravel()).pvalue)
    classes = np.union1d(y_train, y_val)
    if len(classes) < 2:
        return None
    table = np.stack(
        [
            np.bincount(np.searchsorted(classes, y_train), minlength=len(classes)),
            np.bincount(np.searchsorted(classes, y_val), minlength=len(classes)),
        ]
    )
    return float(stats.chi2_contingency(table).pvalue)


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    ranks = stats.rankdata(scores)
    positives = labels.sum()
    negatives = len(labels) - positives
    return float(
        (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def adversarial_auc(
    x_train: np.ndarray,
    x_val: np.ndarray,
    device: torch.device,
    folds: int = 5,
    seed: int = 0,
    tick: Callable[[float], None] | None = None,
) -> float | None:
    rng = np.random.default_rng(seed)
    a = _flat(x_train[rng.permutation(len(x_train))[:ADVERSARIAL_SAMPLES]])
    b = _flat(x_val[rng.permutation(len(x_val))[:ADVERSARIAL_SAMPLES]])
    if min(len(a), len(b)) < folds:
        return None
    x = np.concatenate([a, b])
    if x.shape[1] > ADVERSARIAL_DIMS:
        projection = rng.standard_normal((x.shape[1], ADVERSARIAL_DIMS)) / np.sqrt(x.shape[1])
        x = (x - a.mean(axis=0)) @ projection
    z = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-12)
    features = np.concatenate([z, z**2 - 1], axis=1)
    labels = np.concatenate([np.zeros(len(a)), np.ones(len(b))])
    fold = rng.permutation(len(labels)) % folds
    scores = np.empty(len(labels))
    inputs = torch.from_numpy(features).to(device, torch.float32)
    targets = torch.from_numpy(labels).to(device, torch.float32)
    for k in range(folds):
        train = torch.from_numpy(fold != k).to(device)
        scores[fold == k] = _fit_predict(inputs, targets, train)[~(fold != k)]
        if tick is not None:
            tick(ADVERSARIAL_SHARE / folds)
    return _auc(scores, labels)


def _fit_predict(x: torch.Tensor, y: torch.Tensor, train: torch.Tensor) -> np.ndarray:
    """L2-penalized logistic regression by L-BFGS; scores for every row."""
    weight = torch.zeros(x.shape[1], device=x.device, requires_grad=True)
    bias = torch.zeros(1, device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=100, line_search_fn="strong_wolfe")
    xt, yt = x[train], y[train]
    balance = torch.where(yt == 1, 0.5 / yt.mean(), 0.5 / (1 - yt.mean()))

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = xt @ weight + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yt, weight=balance)
        loss = loss + 1e-2 * (weight**2).sum()
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    with torch.enable_grad():
        optimizer.step(closure)  # type: ignore[no-untyped-call]
    with torch.no_grad():
        return (x @ weight + bias).cpu().numpy().astype(np.float64)


def measure(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    classification: bool,
    device: torch.device,
    tick: Callable[[float], None] | None = None,
) -> Shift:
    """`tick(share)` hears the feature tests and each fold of the adversarial classifier."""
    tested, shifted, mean_shift, median_scale, max_scale = feature_tests(x_train, x_val)
    if tick is not None:
        tick(1 - ADVERSARIAL_SHARE)
    return Shift(
        adversarial_auc(x_train, x_val, device, tick=tick),
        label_test(y_train, y_val, classification),
        tested,
        shifted,
        mean_shift,
        median_scale,
        max_scale,
    )
