"""The half-epoch lag of an epoch-mean training loss.

A training loss averaged over an epoch describes the weights of mid-epoch, while validation is
measured at its end, so the reported training loss lags by about half an epoch: reported train
≈ true(e - ½) = true(e) - ½·slope. Regressing the gap on the training slope then gives a
coefficient near ½, shifting the training curve half an epoch closes most of the gap, and, with
step losses, the last steps of each epoch sit near the validation loss.

A lag is also bounded: the loss reported for the next epoch is the mean over weights at least as
good as those validated at this epoch's end, so a validation loss that stays below even the next
epoch's training loss is below it by more than any lag can make.
"""

import numpy as np
from scipy import stats

from app.analysis.curves import Curves
from app.analysis.finding import Finding, skipped
from app.analysis.history import FloatArray
from app.analysis.wording import closes

FEATURES = (
    "lag_coef",
    "lag_r2",
    "lag_closed",
    "lag_shrink",
    "lag_steps_closed",
    "has_steps",
    "steps_mean_mismatch",
)
BEYOND_MIN_EPOCHS = 3  # epochs (after the first) compared with the next epoch's training loss


def _closed(before: FloatArray, after: FloatArray) -> float:
    denominator = float(np.mean(np.abs(before)))
    if denominator <= 0:
        return 0.0
    return float(np.clip(1 - np.mean(np.abs(after)) / denominator, -1, 1))


def _step_means(c: Curves, epochs: FloatArray, width: float) -> FloatArray:
    """Mean step loss in (e - width, e] for each epoch e; NaN where no step falls there."""
    order = np.argsort(c.step_epoch, kind="stable")
    position, loss = c.step_epoch[order], c.step_loss[order]
    lo = np.searchsorted(position, epochs - width, side="right")
    hi = np.searchsorted(position, epochs, side="right")
    count = hi - lo
    if len(count) == 0:
        return np.zeros(0)
    # Each window summed on its own: a running sum would carry a NaN step, or the rounding of
    # steps a billion times larger, into every later window (an exploded run's settled epochs
    # read as step means far from the losses it reported for them).
    sums = np.add.reduceat(np.append(loss, 0.0), np.stack([lo, hi], axis=1).ravel())[::2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, sums / count, np.nan)


def beyond(c: Curves, last: int | None = None) -> tuple[float, float]:
    """Validation at each epoch's end against the training loss reported one epoch later (the
    first epoch left out: its mean includes the untrained start): the median of the difference
    as a share of the validation loss, and the share of epochs where validation is still lower;
    over the `last` such epochs only, where given. A half-epoch lag leaves both near or above
    zero."""
    finite = np.isfinite(c.train)
    index = np.flatnonzero(c.both)[1:]
    if not finite.any():
        return 0.0, 0.0
    index = index[c.epoch[index] + 1 <= c.epoch[finite][-1]]
    if len(index) < BEYOND_MIN_EPOCHS:
        return 0.0, 0.0
    index = index[-last:] if last else index
    later = np.interp(c.epoch[index] + 1, c.epoch[finite], c.train[finite])
    val = c.val[index]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(np.abs(val) > 0, (val - later) / np.abs(val), 0.0)
    return float(np.clip(np.median(relative), -10, 10)), float(np.mean(val < later))


def check(c: Curves) -> Finding:
    if int(np.sum(c.both)) < 4:
        return skipped(
            "lag", "needs at least four epochs with both losses", dict.fromkeys(FEATURES, 0.0)
        )
    e, tr, va = c.epoch[c.both], c.train[c.both], c.val[c.both]
    level = c.level()
    gap = va - tr
    slope = np.gradient(tr, e)
    fit = stats.linregress(slope, gap) if np.ptp(slope) > 0 else None
    coef = float(fit.slope) if fit is not None else 0.0
    r2 = float(fit.rvalue**2) if fit is not None else 0.0
    early = slice(0, max(2, len(e) // 3))
    shifted = np.interp(e[:-1] + 0.5, e, tr)
    closed = _closed(gap[:-1][early], (va[:-1] - shifted)[early])
    k = max(1, len(e) // 3)
    shrink = float(
        np.log(
            (np.mean(np.abs(gap[:k])) + 1e-9 * level) / (np.mean(np.abs(gap[-k:])) + 1e-9 * level)
        )
    )
    steps_closed = mismatch = 0.0
    if c.has_steps:
        end = _step_means(c, e, 0.1)
        whole = _step_means(c, e, 1.0)
        ok = np.isfinite(end)
        if ok.sum() >= 2:
            steps_closed = _closed(
                gap[ok][: max(2, ok.sum() // 3)], (va - end)[ok][: max(2, ok.sum() // 3)]
            )
        okw = np.isfinite(whole)
        if okw.sum() >= 2:
            mismatch = float(np.median(np.abs(whole[okw] - tr[okw])) / level)
    features = {
        # Weighted by the fit's R², and only where validation starts below training: a widening
        # gap as the curves flatten (overfitting) also gives a positive coefficient.
        "lag_coef": float(np.clip(coef, -1, 2)) * r2 * float(np.mean(gap[early]) < 0),
        "lag_r2": r2 * float(np.sign(coef)),
        "lag_closed": closed,
        "lag_shrink": float(np.clip(shrink, -3, 3)) / 3,
        "lag_steps_closed": steps_closed,
        "has_steps": float(c.has_steps),
        "steps_mean_mismatch": float(min(mismatch, 2.0)),
    }
    detail = (
        f"gap regressed on the training slope: coefficient {coef:.2f} (½ for a pure "
        f"half-epoch lag), R² {r2:.2f}; a half-epoch shift {closes(closed, 'the early gap')}"
    )
    if c.has_steps:
        detail += f"; the last steps of each epoch {closes(steps_closed, 'it')}"
    flagged = (0.25 <= coef <= 1.0 and r2 >= 0.3 and closed >= 0.3) or steps_closed >= 0.5
    return Finding(
        "lag", "flagged" if flagged else "passed", detail, statistic=coef, features=features
    )
