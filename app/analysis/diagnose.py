"""The engine's one entry point: history in, ranked and explained causes out."""

from collections.abc import Mapping

import numpy as np

from app.analysis import model as cause_model
from app.analysis.catalog import BY_ID, TRAINING_CURVE_CAUSES
from app.analysis.checks import CHECKS
from app.analysis.config_keys import config_finding
from app.analysis.curves import Curves, prepare
from app.analysis.finding import Finding
from app.analysis.history import History
from app.analysis.result import Cause, Check, Diagnosis, Evidence

ENGINE_VERSION = "0.4.0"
REPORT_FLOOR = 0.05  # causes below this confidence are left out (api.md §4)


def engine_version() -> str:
    """The code's version and the fitted model's: a stored diagnosis is reused only while both
    are unchanged."""
    return f"{ENGINE_VERSION}+{cause_model.load().version}"


def features_of(history: History) -> tuple[Curves, dict[str, Finding], dict[str, float]]:
    """Run every check; the features are what the cause model reads."""
    curves = prepare(history)
    findings = {f.check: f for f in _run_checks(curves)}
    features: dict[str, float] = {}
    for finding in findings.values():
        features.update(finding.features)
    return curves, findings, features


def diagnose(history: History, model: cause_model.Model | None = None) -> Diagnosis:
    model = model or cause_model.load()
    curves, findings, features = features_of(history)
    view = _view(curves)
    scores = model.predict(features, training_only=view == "training") if view else {}
    causes = tuple(
        _cause(cause_id, p, curves, findings)
        for cause_id, p in sorted(scores.items(), key=lambda item: -item[1])
        if p >= REPORT_FLOOR and cause_id in BY_ID
    )
    return Diagnosis(
        summary=_summary(curves, causes, model, view),
        causes=causes,
        checks=tuple(Check(f.check, f.status, f.detail, f.statistic) for f in findings.values()),
        gap=_gap(curves),
    )


def _run_checks(curves: Curves) -> list[Finding]:
    return [config_finding(curves.config), *(check(curves) for check in CHECKS)]


def _view(c: Curves) -> str | None:
    """Which cause models read the run: `both` curves; the `training` curve alone (a run logged
    without validation, or with a single validation point); or none (too short)."""
    if int(np.sum(c.both)) >= 2 or (c.reported_val and c.nonfinite_train + c.nonfinite_val):
        return "both"
    if int(np.sum(np.isfinite(c.train))) >= 2 or c.nonfinite_train:
        return "training"
    return None


def _training_opening(c: Curves) -> str:
    finite = np.isfinite(c.train)
    names = ", ".join(BY_ID[cause].title.lower() for cause in TRAINING_CURVE_CAUSES)
    opening = (
        "Fewer than two epochs have a validation loss, so only what a training curve can show "
        f"is ranked ({names})."
    )
    if finite.any():
        last = int(np.flatnonzero(finite)[-1])
        opening += f" Training loss ends {c.train[last]:.4g} at epoch {c.epoch[last]:g}."
    return opening


def _cause(cause_id: str, p: float, c: Curves, findings: Mapping[str, Finding]) -> Cause:
    spec = BY_ID[cause_id]
    evidence = tuple(
        Evidence(check, findings[check].detail, findings[check].statistic)
        for check in spec.evidence
        if check in findings and findings[check].status != "skipped"
    )
    return Cause(
        id=spec.id,
        kind=spec.kind,
        confidence=round(p, 3),
        title=spec.title,
        explanation=spec.explain(c, findings),
        evidence=evidence,
        actions=spec.actions(c, findings),
    )


def _gap(c: Curves) -> dict[str, float | None]:
    if not c.both.any():
        return {}
    epochs, tr, va = c.epoch[c.both], c.train[c.both], c.val[c.both]
    finite = np.isfinite(c.val)
    best = int(np.argmin(c.val[finite])) if finite.any() else 0
    return {
        "last_epoch": float(epochs[-1]),
        "train_loss": float(tr[-1]),
        "val_loss": float(va[-1]),
        "val_minus_train": float(va[-1] - tr[-1]),
        "mean_val_minus_train": float(np.mean(va - tr)),
        "best_val_epoch": float(c.epoch[finite][best]) if finite.any() else None,
        "best_val_loss": float(c.val[finite][best]) if finite.any() else None,
    }


def _settle_with(causes: tuple[Cause, ...], c: Curves, view: str) -> str:
    ids = {cause.id for cause in causes[:3]}
    hints = ["a validation loss for each epoch"] if view == "training" else []
    if (
        ids
        & {
            "data_leakage",
            "easier_validation",
            "regularization_train_only",
            "augmentation_train_only",
            "label_noise_train",
            "preprocessing_mismatch",
            "batchnorm_mode",
        }
        and c.probe is None
    ):
        hints.append("a checkpoint and the data for re-evaluation (POST /v1/runs/{id}/artifacts)")
    if "measurement_lag" in ids and not c.has_steps:
        hints.append("per-step training losses")
    missing = [
        k for k in ("dropout", "augmentation", "batch_norm", "val_size") if k not in c.config
    ]
    if missing:
        hints.append("the config keys " + ", ".join(missing))
    return "; ".join(hints)


def _summary(
    c: Curves,
    causes: tuple[Cause, ...],
    model: cause_model.Model,
    view: str | None,
) -> str:
    if view is None:
        return (
            "Not enough history: the diagnosis needs at least two epochs with a training loss "
            "(and, to compare the curves, two with a validation loss too)."
        )
    gap = _gap(c)
    if view == "training":
        opening = _training_opening(c)
    elif gap:
        diff = float(gap["val_minus_train"] or 0.0)
        side = "below" if diff < 0 else "above"
        opening = (
            f"Validation loss ends {abs(diff):.3g} {side} training loss "
            f"({gap['val_loss']:.4g} vs {gap['train_loss']:.4g}) at epoch "
            f"{gap['last_epoch']:g}."
        )
    else:
        opening = "No epoch has a finite training and validation loss together."
    if not model.causes:
        return opening + " The cause model is not fitted in this build, so no causes are ranked."
    if not causes:
        return opening + " No cause in the catalog stands out."
    top = causes[0]
    worry = "not a problem" if top.kind == "benign" else "worth fixing"
    text = f"{opening} Most likely: {top.title.lower()} ({top.confidence:.0%}), {worry}."
    problems = [x for x in causes if x.kind == "problem" and x.confidence >= 0.5]
    if top.kind == "benign" and problems:
        text += f" Also likely: {problems[0].title.lower()} ({problems[0].confidence:.0%})."
    close = [x for x in causes[1:3] if top.confidence - x.confidence < 0.2 and x.confidence >= 0.3]
    if close:
        names = " or ".join(x.title.lower() for x in close)
        settle = _settle_with(causes, c, view)
        source = "The re-evaluation and history" if c.probe else "History alone"
        text += f" {source} cannot rule out {names}"
        text += f"; what would settle it: {settle}." if settle else "."
    return text
