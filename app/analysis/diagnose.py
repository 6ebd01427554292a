"""The engine's one entry point: history in, ranked and explained causes out.

Symptoms first (what the curves and a re-evaluation show, with effect sizes), then the
differential: the fitted cause models' opinions, kept only for causes whose mechanism can produce
the symptoms, pulled toward base rates for short histories and overruled by direct measurements.
A gap between the curves always gets its candidate explanations, even when none is likely.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from app.analysis import differential
from app.analysis import model as cause_model
from app.analysis import probe as probes
from app.analysis.catalog import BY_ID, CAUSES, TRAINING_CURVE_CAUSES
from app.analysis.checks import CHECKS
from app.analysis.config_keys import (
    behaviour_undeclared,
    config_finding,
    recipe_unknown,
    recipe_variants,
)
from app.analysis.curves import Curves, prepare
from app.analysis.finding import Finding
from app.analysis.fingerprint import FEATURES_FINGERPRINT
from app.analysis.history import History
from app.analysis.result import Cause, Check, Diagnosis, Evidence, SymptomReport
from app.analysis.symptoms import Symptoms, measure, present, redeclared, trains_differently
from app.analysis.symptoms.config import declared_behaviour
from app.analysis.symptoms.reevaluation import unlearned_copies

ENGINE_VERSION = "0.6.25"
# Confidences are reported to this many decimals, and ranked as reported: two causes both at
# 1.000 are equally likely, whatever float noise lies below (then the problem comes first).
CONFIDENCE_DIGITS = 3
REPORT_FLOOR = 0.05  # causes below this confidence are left out (api.md §4) ...
CANDIDATES = 3  # ... except this many candidate explanations of a loud symptom ...
UNEXPLAINED = 0.2  # ... that the causes reported leave unexplained with this probability or more
# Symptoms loud enough that the user must hear their candidate explanations even when no cause
# is likely: a gap between the curves, a training that broke, one that learned nothing, and one
# that only got worse.
FLAGGED_SYMPTOMS = (
    "val_below_train",
    "val_above_train",
    "train_stuck",
    "train_rises_from_start",
    "loss_exploded",
    "at_chance",
    "negative_loss",
    "impossible_loss",
)
BELOW_EARLY = ("val_below_train_early", "val_below_train_first")
MIN_EXPLAINED = 0.01  # a recipe is never ruled out by what its causes leave unexplained
# The habits a config that names nothing of its recipe is weighed as possibly having
# (`recipe_variants`): where a cause they declare is listed, the summary asks for their keys. A
# rate far above the usual one is declared by the config too, but never by an unknown recipe.
WEIGHED_DECLARATIONS = frozenset({"declares_regularization", "declares_augmentation"})
CLOSE = 0.2  # causes within this confidence of the top one are named as not ruled out
CLOSE_FLOOR = 0.3


def engine_version() -> str:
    """The code's version, the fitted model's and the feature code's: a stored diagnosis is
    reused only while all three are unchanged."""
    return f"{ENGINE_VERSION}+{cause_model.load().version}+{FEATURES_FINGERPRINT[:8]}"


@dataclass(frozen=True)
class Assessment:
    """Everything the engine measured and concluded about one run, before it is put in words."""

    curves: Curves
    findings: Mapping[str, Finding]
    features: Mapping[str, float]
    symptoms: Symptoms
    view: str | None
    scores: Mapping[str, float]  # the compatible causes' confidences


def features_of(history: History) -> tuple[Curves, dict[str, Finding], dict[str, float]]:
    """Run every check; the features are what the cause model reads."""
    curves = prepare(history)
    findings = {f.check: f for f in _run_checks(curves)}
    features: dict[str, float] = {}
    for finding in findings.values():
        # A statistic that overflowed on extreme values (1e300) is no evidence either way.
        features.update({k: v if math.isfinite(v) else 0.0 for k, v in finding.features.items()})
    return curves, findings, features


def assess(history: History, model: cause_model.Model | None = None) -> Assessment:
    model = model or cause_model.load()
    curves, findings, features = features_of(history)
    symptoms = measure(curves, findings)
    view = _view(curves)
    scores: dict[str, float] = {}
    if view is not None:
        training = view == "training"
        # How much history there is: epochs with a reported loss (a NaN is evidence too).
        epochs = (
            curves.reported_train if training else min(curves.reported_train, curves.reported_val)
        )
        base_rates = model.base_rates(training_only=training)
        weighed = []
        variants = recipe_variants(curves.config)
        for prior, config in variants:
            raw, declared = _as_declared(model, curves, features, symptoms, config, training)
            found = differential.confidences(raw, declared, epochs, base_rates)
            if len(variants) > 1:
                found = _as_hypothesized(found, declared)
            weighed.append((prior * _explained(found, symptoms), found))
        scores = _mixed(weighed)
    return Assessment(curves, findings, features, symptoms, view, scores)


def _as_hypothesized(found: dict[str, float], declared: Symptoms) -> dict[str, float]:
    """A recipe weighed as one the run may have had fixes its training-time behaviour: under the
    one without augmentation (the config as sent, naming none, or the one declaring dropout),
    augmentation is not at work, whatever the curves look like, and likewise dropout; its
    possibility is the weight of the recipe that declares it. Read off
    the curves in every recipe, a config naming its optimizer and no augmentation read
    "augmentation, 61%" on validation at 70% of training (the summary said it was weighed as
    less likely than not), and a throwaway batch's leakage run "augmentation, 66%". Not where a
    re-evaluation measured what training-time behaviour adds: that measures the model, not a
    hypothesis."""
    if differential.REEVALUATED in declared:
        return found
    here = present(declared)
    return {
        cause: p
        for cause, p in found.items()
        if not BY_ID[cause].declared_by & WEIGHED_DECLARATIONS or BY_ID[cause].declared_by & here
    }


def _mixed(weighed: list[tuple[float, dict[str, float]]]) -> dict[str, float]:
    """The recipes' confidences averaged by how likely each recipe is."""
    if len(weighed) == 1:
        return weighed[0][1]
    total = math.fsum(weight for weight, _ in weighed)
    causes = dict.fromkeys(cause for _, found in weighed for cause in found)
    return {
        # rounded off the weights' float noise: a confirmation in every recipe is one
        cause: round(math.fsum(w * found.get(cause, 0.0) for w, found in weighed) / total, 12)
        for cause in causes
    }


def _explained(scores: Mapping[str, float], symptoms: Symptoms) -> float:
    """How likely the causes weighed explain the loud symptoms: a recipe under which the curves
    need a rare cause is less likely to be the run's than one whose habit makes them."""
    found = present(symptoms)
    likely = 1.0
    for symptom in FLAGGED_SYMPTOMS:
        if symptom in found:
            candidates = [c for c in scores if differential.explains(BY_ID[c], symptom)]
            likely *= max(1 - math.prod(1 - scores[c] for c in candidates), MIN_EXPLAINED)
    return likely


def _as_declared(
    model: cause_model.Model,
    curves: Curves,
    features: Mapping[str, float],
    symptoms: Symptoms,
    config: Mapping[str, object],
    training: bool,
) -> tuple[dict[str, float], Symptoms]:
    """The cause models' opinions and the symptoms, for the run as sent with `config`. A run
    whose config says nothing of how it was trained is weighed as each recipe it may have had
    (`recipe_variants`): a missing key is not evidence that the run had no dropout when no key
    was sent at all, and dropout it may have had accounts for what dropout produces, in the
    differential as in the models."""
    if config == curves.config:
        return model.predict(features, training_only=training), symptoms
    declared = {**features, **config_finding(config).features}
    behaviour = {s.id: s for s in declared_behaviour(replace(curves, config=config))}
    return model.predict(declared, training_only=training), redeclared(symptoms, behaviour)


def diagnose(history: History, model: cause_model.Model | None = None) -> Diagnosis:
    model = model or cause_model.load()
    return report(assess(history, model), model)


def report(a: Assessment, model: cause_model.Model) -> Diagnosis:
    """The assessment in words: the reported causes (with the candidate explanations of a
    flagged symptom that nothing likely explains), the symptoms and the summary."""
    ranked = sorted(a.scores, key=lambda cid: _rank(a, cid))
    reported = [cid for cid in ranked if a.scores[cid] >= REPORT_FLOOR]
    for symptom in FLAGGED_SYMPTOMS:
        if symptom in a.symptoms and a.symptoms[symptom].present:
            candidates = _candidates(ranked, symptom)
            if math.prod(1 - a.scores[c] for c in candidates if c in reported) >= UNEXPLAINED:
                reported.extend(c for c in candidates if c not in reported)
    reported.sort(key=lambda cid: _rank(a, cid))
    causes = tuple(_cause(cid, a) for cid in reported)
    return Diagnosis(
        summary=_summary(a, causes, model),
        causes=causes,
        checks=tuple(Check(f.check, f.status, f.detail, f.statistic) for f in a.findings.values()),
        gap=_gap(a.curves),
        symptoms=tuple(_symptom_report(a, ranked, sid) for sid in a.symptoms),
    )


def _rank(a: Assessment, cause_id: str) -> tuple[float, bool]:
    """Most likely first; of causes equally likely (two confirmed by their symptoms, each at
    `CONFIRMED`), a problem before a benign cause: both are at work, and the problem is what
    the user must act on (a small validation set's noise that made early stopping fire on a
    bump explains the bump; stopping too soon is what cost the run)."""
    return -round(a.scores[cause_id], CONFIDENCE_DIGITS), BY_ID[cause_id].kind != "problem"


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


def _candidates(ranked: list[str], symptom: str) -> list[str]:
    return [cid for cid in ranked if differential.explains(BY_ID[cid], symptom)][:CANDIDATES]


def _symptom_report(a: Assessment, ranked: list[str], symptom_id: str) -> SymptomReport:
    """A present symptom with the causes that can produce it; one that no cause in the catalog
    produces (a fact that qualifies others: the configured rate, accuracies that agree) has no
    remainder to leave unexplained."""
    s = a.symptoms[symptom_id]
    if not s.present or not any(differential.explains(spec, symptom_id) for spec in CAUSES):
        return SymptomReport(s.id, bool(s.present), s.value, s.unit, s.detail)
    candidates = _candidates(ranked, symptom_id)
    unexplained = math.prod(1 - a.scores[cid] for cid in candidates)
    settle = "; ".join(dict.fromkeys(BY_ID[cid].settle for cid in candidates if BY_ID[cid].settle))
    return SymptomReport(
        s.id, True, s.value, s.unit, s.detail, tuple(candidates), round(unexplained, 3), settle
    )


def _cause(cause_id: str, a: Assessment) -> Cause:
    spec = BY_ID[cause_id]
    # The symptoms its mechanism needs, and those that confirm it or that it is claimed with:
    # a cause confirmed by its signature shows the signature.
    needed = frozenset().union(*spec.requires) | spec.confirmed_by | spec.claimed_with
    observed = tuple(
        Evidence(s.id, s.detail, s.value)
        for s in a.symptoms.values()
        if s.present and s.id in needed
    )
    cited = tuple(
        Evidence(check, a.findings[check].detail, a.findings[check].statistic)
        for check in spec.evidence
        if check in a.findings and a.findings[check].status != "skipped"
    )
    return Cause(
        id=spec.id,
        kind=spec.kind,
        confidence=round(a.scores[cause_id], CONFIDENCE_DIGITS),
        title=spec.title,
        explanation=spec.explain(a.curves, a.findings),
        evidence=observed + cited,
        actions=spec.actions(a.curves, a.findings),
    )


def _gap(c: Curves) -> dict[str, float | None]:
    if not c.both.any():
        return {}
    epochs, tr, va = c.epoch[c.both], c.train[c.both], c.val[c.both]
    finite = np.isfinite(c.val)
    best = int(np.argmin(c.val[finite])) if finite.any() else 0
    return {
        "last_epoch": float(epochs[-1]),
        "train_loss": c.shown(float(tr[-1])),
        "val_loss": c.shown(float(va[-1])),
        "val_minus_train": float(va[-1] - tr[-1]),
        "mean_val_minus_train": float(np.mean(va - tr)),
        "best_val_epoch": float(c.epoch[finite][best]) if finite.any() else None,
        "best_val_loss": c.shown(float(c.val[finite][best])) if finite.any() else None,
    }


def _training_opening(c: Curves) -> str:
    finite = np.isfinite(c.train)
    names = ", ".join(BY_ID[cause].title.lower() for cause in TRAINING_CURVE_CAUSES)
    opening = (
        "Fewer than two epochs have a validation loss, so only what a training curve can show "
        f"is ranked ({names})."
    )
    if finite.any():
        last = int(np.flatnonzero(finite)[-1])
        opening += f" Training loss ends {c.shown(c.train[last]):.4g} at epoch {c.epoch[last]:g}."
    return opening


def _opening(a: Assessment) -> str:
    if a.view == "training":
        return _training_opening(a.curves)
    gap = _gap(a.curves)
    if not gap:
        return "No epoch has a finite training and validation loss together."
    diff = float(gap["val_minus_train"] or 0.0)
    side = "below" if diff < 0 else "above"
    return (
        f"Validation loss ends {abs(diff):.3g} {side} training loss "
        f"({gap['val_loss']:.4g} vs {gap['train_loss']:.4g}) at epoch {gap['last_epoch']:g}."
    )


def _decomposition(a: Assessment) -> str:
    """What a re-evaluation says the gap is made of, in one sentence."""
    p = probes.read(a.curves.probe)
    if p is None:
        return ""

    def found(symptom: str) -> bool:
        return symptom in a.symptoms and a.symptoms[symptom].present

    scores = f"the training set scores {p.train_eval_raw:.4g} and validation {p.val_eval:.4g}"
    added = p.train_time[0] if p.train_time and trains_differently(p, a.findings) else None
    if found("eval_val_above"):
        text = f" Re-evaluated in eval mode, {scores}: the gap is generalization"
        if added is not None and added > 0:
            text += (
                f", which training-time behaviour (dropout, batch statistics, augmentation) "
                f"partly hides by adding {added:+.3g} to the reported training loss"
            )
        return text + "."
    if found("eval_val_below"):
        return (
            f" Re-evaluated in eval mode, {scores}: validation is easier for the model even "
            "without training-time behaviour."
        )
    if found("train_time_effect") and added is not None:
        return (
            f" Re-evaluated, {scores} in eval mode; training-time behaviour adds {added:+.3g} "
            "to the reported training loss."
        )
    return f" Re-evaluated in eval mode, {scores}."


def _summary(a: Assessment, causes: tuple[Cause, ...], model: cause_model.Model) -> str:
    if a.view is None:
        return (
            "Not enough history: the diagnosis needs at least two epochs with a training loss "
            "(and, to compare the curves, two with a validation loss too)."
        )
    text = _opening(a) + _decomposition(a)
    if not model.causes:
        return text + " The cause model is not fitted in this build, so no causes are ranked."
    if not causes:
        return text + " No cause in the catalog stands out." + _unlearned_copies(a)
    top = causes[0]
    if top.confidence < REPORT_FLOOR:
        names = ", ".join(f"{c.title.lower()} ({c.confidence:.0%})" for c in causes)
        settle = _settle_with(causes, a)
        text += f" No cause in the catalog is likely; the candidates that could produce it: {names}"
        return (
            text + (f". What would settle it: {settle}." if settle else ".") + _unlearned_copies(a)
        )
    worry = "not a problem" if top.kind == "benign" else "worth fixing"
    text += f" Most likely: {top.title.lower()} ({top.confidence:.0%}), {worry}."
    text += _partial(a, causes)
    text += _unexplained_end(a, top)
    problems = [x for x in causes if x.kind == "problem" and x.confidence >= differential.CLAIM]
    if top.kind == "benign" and problems:
        text += f" Also likely: {problems[0].title.lower()} ({problems[0].confidence:.0%})."
    found = present(a.symptoms)
    close = [
        x
        for x in causes[1:3]
        if top.confidence - x.confidence < CLOSE
        and x.confidence >= CLOSE_FLOOR
        and not BY_ID[x.id].partial_when & found
    ]
    if close:
        names = " or ".join(x.title.lower() for x in close)
        settle = _settle_with((top, *close), a)
        source = "The re-evaluation and history" if a.curves.probe else "History alone"
        text += f" {source} cannot rule out {names}"
        text += f"; what would settle it: {settle}." if settle else "."
    return text + _undeclared_behaviour(a, causes) + _unlearned_copies(a)


def _unlearned_copies(a: Assessment) -> str:
    """Copies of training samples in validation that the model scores like the rest inflate
    nothing yet, so leakage is not claimed; the split still needs fixing, and the user hears it."""
    copies = a.symptoms.get("duplicates")
    if copies is None or not unlearned_copies(copies):
        return ""
    return f" The re-evaluation found copies: {copies.detail}."


def _undeclared_behaviour(a: Assessment, causes: tuple[Cause, ...]) -> str:
    """Where behaviour nobody declared may be what the curves show, the keys that settle it. A
    config that says nothing of how the model was trained has dropout and augmentation weighed
    as possible; one that names the optimizer but none of them, as less likely than not, which
    keeps the commonest reason for validation below training low in the ranking (unless a
    re-evaluation measured what training-time behaviour adds)."""
    config = a.curves.config
    if recipe_unknown(config):
        if not any(BY_ID[c.id].declared_by & WEIGHED_DECLARATIONS for c in causes):
            return ""
        return (
            " The config says nothing of how the model was trained, so dropout and augmentation "
            "are weighed as possible: send `dropout`, `label_smoothing` and `augmentation` (0 or "
            "none where unused) with the optimizer and rate to settle it."
        )
    below = "val_below_train" in present(a.symptoms)
    if not below or not behaviour_undeclared(config) or differential.REEVALUATED in a.symptoms:
        return ""
    return (
        " The config declares no dropout, label smoothing or augmentation, so they are weighed "
        "as less likely than not; they are the commonest reason validation sits below "
        "training: if the model has any, send `dropout`, `label_smoothing` or `augmentation` "
        "(0 or none where unused) to settle it."
    )


def _partial(a: Assessment, causes: tuple[Cause, ...]) -> str:
    """The causes measured to explain only part of what was seen, in words: they are at work,
    whatever their confidence, but the rest needs another explanation."""
    found = present(a.symptoms)
    text = ""
    for cause in causes:
        for sid in sorted(BY_ID[cause.id].partial_when & found):
            part = f"explains only part of the gap: {a.symptoms[sid].detail}"
            if cause is not causes[0]:
                text += f" {cause.title} ({cause.confidence:.0%}) is at work too, but {part}."
                continue
            rest = [c for c in causes if differential.explains(BY_ID[c.id], sid)]
            text += f" It {part}"
            text += (
                f"; the rest most likely: {rest[0].title.lower()} ({rest[0].confidence:.0%})."
                if rest
                else "."
            )
    return text


def _unexplained_end(a: Assessment, top: Cause) -> str:
    """A cause that explains validation below training early on says nothing of a run that ends
    with validation above it: the user is told which part it explains."""
    above = a.symptoms.get("val_above_train")
    spec = BY_ID[top.id]
    early = any(
        differential.explains(spec, sid) and a.symptoms[sid].present
        for sid in BELOW_EARLY
        if sid in a.symptoms
    )
    if above is None or not above.present or not early or differential.explains(spec, above.id):
        return ""
    return (
        " It explains the first epochs, where validation sat below training; it cannot explain "
        f"the end, where validation is above training by {abs(above.value or 0):.0%} of the "
        "loss level."
    )


def _settle_with(causes: tuple[Cause, ...], a: Assessment) -> str:
    hints = ["a validation loss for each epoch"] if a.view == "training" else []
    hints.extend(BY_ID[c.id].settle for c in causes if BY_ID[c.id].settle)
    return "; ".join(dict.fromkeys(hints))
