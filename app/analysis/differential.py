"""The differential diagnosis: from the cause models' opinions to the confidences reported.

The fitted models (`model.py`) give each cause a probability from the run's features, but a
pattern learned from one generator of runs is not a mechanism. Here the mechanism has the last
word:
- a cause whose mechanism cannot produce the measured symptoms is not reported (its catalog
  entry's `requires` and `excludes`), nor one whose own signature a re-evaluation measured and
  did not find (`refuted_without`);
- a short history pulls a confidence back toward the cause's base rate: three epochs are little
  evidence, whatever a model fitted on longer runs reads into them;
- a measurement of the mechanism itself decides: when a tenth of the validation set has copies
  in training, validation samples leak; when the loss is NaN or explodes a thousandfold, the
  training is numerically unstable (a cause's `confirmed_by` symptoms); where another compatible
  cause's mechanism produces the same symptom (`also_produces`), it confirms that one of them is
  at work, and they share the confirmation in the models' proportions;
- a cause measured to produce only part of a symptom (`partial_when`: a gap wider than any
  half-epoch lag) keeps its confidence, since it is at work, but the rest is produced by something
  else: the causes that can produce it are weighed as alternatives one of which is at work.
"""

import math
from collections.abc import Mapping

from app.analysis.catalog import BY_ID, CauseSpec
from app.analysis.symptoms import Symptoms, present

FULL_HISTORY = 8  # epochs with both curves (or training losses) from which a history counts fully
DEFAULT_BASE_RATE = 0.1  # a cause's prior when the fitted model does not state one
LEAK_DECISIVE = 0.1  # share of validation samples with a copy in training that settles leakage
LEAK_CONFIRMED = 0.9
CONFIRMED = 0.9  # a cause whose defining symptom is present
# A cause lacking every symptom it is claimed with stays a candidate, at most what such
# candidates earn: out of family, 16 of the 79 held there were real (a learning rate too low on a
# plateau 7 of 41, leakage within the lag 8 of 24, noisy labels 0 of 11), 8 of 44 re-evaluated.
# At the former 0.4, every healthy real log with a plateau listed "learning rate too low, 40%".
UNCLAIMED = 0.2
CLAIM = 0.5  # a confidence from which a cause is claimed, not a candidate
# A symptom every re-evaluation measures: its presence in the symptoms (present or not) says the
# run was re-evaluated. Only then are causes explained away: a confirmation read off the curves
# (a final gap within a small set's sampling error) does not measure the split, and the causes
# it would explain away were never measured either.
REEVALUATED = "eval_val_below"
# How much likelier validation below even the next epoch's training loss is when a cause that
# can produce it is at work than when none is, beyond what the fitted models already read from
# the gap: 12 on its own (134 of 178 of the first generator's runs with such a cause showed it, 14
# of 226 without), but the models see the same gap, so the ratio used is the one that minimizes
# the log-loss of those causes on runs no model was fitted on (3-5 for families left out, 5 on the
# other generator).
REST_LIKELIHOOD = 5.0


def compatible(symptoms: Symptoms) -> frozenset[str]:
    """The causes whose mechanism can produce the measured symptoms and that no re-evaluation
    refuted."""
    found, measured = present(symptoms), frozenset(symptoms)
    return frozenset(
        spec.id
        for spec in BY_ID.values()
        if spec.compatible(found) and not spec.refuted(measured, found)
    )


def history_weight(epochs: int) -> float:
    return min(1.0, max(epochs - 1, 0) / (FULL_HISTORY - 1))


def confidences(
    raw: Mapping[str, float],
    symptoms: Symptoms,
    epochs: int,
    base_rates: Mapping[str, float],
) -> dict[str, float]:
    """Each compatible cause's confidence; incompatible causes are left out."""
    allowed = compatible(symptoms)
    weight = history_weight(epochs)
    scores: dict[str, float] = {}
    for cause_id, p in raw.items():
        if cause_id not in allowed:
            continue
        base = base_rates.get(cause_id, DEFAULT_BASE_RATE)
        scores[cause_id] = base + (p - base) * weight
    found = present(symptoms)
    _the_rest(scores, found)
    # A cause confirmed by its defining symptom, whatever its model says and whether or not this
    # view has one: a run logged without validation has no model for a loss computed wrongly,
    # and a cross entropy of 0 at chance accuracy still is one.
    groups = confirmations(found, allowed)
    confirmed = {group[0] for group in groups if len(group) == 1}
    accounted = _accounted(scores, found, frozenset(raw), confirmed)
    for cause_id in scores:
        spec = BY_ID[cause_id]
        # What a declared behaviour accounts for is no evidence of its own for a problem; a
        # benign cause is such a behaviour itself (batch norm beside dropout raises the
        # training loss as well) and keeps it.
        evidence = found - accounted if spec.kind == "problem" else found
        unclaimed = spec.claimed_with and not spec.claimed_with & evidence
        if unclaimed or spec.unclaimed_with & found:
            scores[cause_id] = min(scores[cause_id], UNCLAIMED)
    held: frozenset[str] = frozenset()
    if REEVALUATED in symptoms:
        held = _explained_away(scores, found, confirmed, base_rates)
    for group in sorted(groups, key=len, reverse=True):  # a cause confirmed alone, last
        # A cause explained away has no share in a confirmation the others account for.
        _confirm(scores, tuple(c for c in group if c not in held) or group)
    leak = symptoms.get("duplicates")
    if (
        leak is not None
        and leak.present
        and (leak.value or 0.0) >= LEAK_DECISIVE
        and "data_leakage" in allowed
    ):
        scores["data_leakage"] = max(scores.get("data_leakage", 0.0), LEAK_CONFIRMED)
    return scores


def confirmations(found: frozenset[str], allowed: frozenset[str]) -> list[tuple[str, ...]]:
    """For each present symptom that confirms a cause, the compatible causes whose mechanism
    produces it: the one it confirms and those that declare it `also_produces`."""
    symptoms = frozenset().union(*(BY_ID[c].confirmed_by for c in allowed)) & found
    groups = {
        tuple(
            sorted(c for c in allowed if symptom in BY_ID[c].confirmed_by | BY_ID[c].also_produces)
        )
        for symptom in symptoms
    }
    return sorted(groups)


def _confirm(scores: dict[str, float], group: tuple[str, ...]) -> None:
    """One of the group is at work: its causes are raised together, as alternatives, until their
    confidences add up to `CONFIRMED`, each keeping its share (the only one is raised to it)."""
    known = [c for c in group if c in scores] or list(group)
    total = sum(scores.get(c, 0.0) for c in known)
    if total >= CONFIRMED:
        return
    for c in known:
        share = scores.get(c, 0.0) / total if total > 0 else 1 / len(known)
        scores[c] = CONFIRMED * share


def _accounted(
    scores: Mapping[str, float],
    found: frozenset[str],
    modelled: frozenset[str],
    confirmed: set[str],
) -> frozenset[str]:
    """The symptoms a behaviour the config declares accounts for, where the models claim it or
    a symptom confirms it (augmentation raises the training loss above validation and holds it
    on a higher floor, as noisy labels do; a rate thirty times the usual one that overshoots
    holds it high), so they are no evidence of their own for a problem. In a view with no model
    of the behaviour (a run logged without validation), declaring it is all there is to go
    on. A cause nothing declares accounts for them where its own symptom confirms it (a gap
    within a small set's sampling error)."""
    return frozenset().union(
        *(
            spec.accounts_for
            for spec in BY_ID.values()
            if (
                spec.declared_by & found
                and (
                    scores.get(spec.id, 0.0) >= CLAIM
                    or spec.id not in modelled
                    or spec.id in confirmed
                    or spec.declaration_suffices
                )
            )
            or (not spec.declared_by and spec.id in confirmed)
        )
    )


def explains(spec: CauseSpec, symptom: str) -> bool:
    """Whether the cause's mechanism is one way to produce this symptom: one it needs, one
    that is the cause by definition, or one it also produces."""
    return symptom in spec.confirmed_by | spec.also_produces or any(
        symptom in group for group in spec.requires
    )


def _the_rest(scores: dict[str, float], found: frozenset[str]) -> None:
    """Where a cause was measured to produce only part of a symptom, the causes that can produce
    the rest are alternatives of which the symptom is evidence: their joint probability (as
    independent causes) is updated by its likelihood ratio (`REST_LIKELIHOOD`) and shared among
    them in the models' own proportions."""
    for cause_id in list(scores):
        for symptom in BY_ID[cause_id].partial_when & found:
            rest = [c for c in scores if c != cause_id and explains(BY_ID[c], symptom)]
            anyone = 1 - math.prod(1 - scores[c] for c in rest)
            if not 0 < anyone < 1:
                continue
            odds = anyone / (1 - anyone) * REST_LIKELIHOOD
            for c in rest:
                scores[c] *= odds / (1 + odds) / anyone


def _explained_away(
    scores: dict[str, float],
    found: frozenset[str],
    confirmed: set[str],
    base_rates: Mapping[str, float],
) -> frozenset[str]:
    """A cause compatible only through symptoms that a confirmed cause explains (those its
    mechanism requires, or also produces) has nothing of its own to explain: it keeps at most
    its base rate. Validation measured to be drawn from an easier distribution accounts for
    validation scoring better, so noisy training labels whose own signature (labels the model
    rejects) the re-evaluation did not find are not claimed on the same evidence; validation
    inputs measured unlike training's account for a rise after the minimum, which the best
    checkpoint would not undo on inputs preprocessed as training's. Returns the causes held."""
    explained = frozenset().union(
        *(g for c in confirmed for g in (*BY_ID[c].requires, BY_ID[c].also_produces))
    )
    held: set[str] = set()
    for cause_id in scores:
        if cause_id in confirmed:
            continue
        groups = BY_ID[cause_id].requires
        if groups and all(group & found <= explained for group in groups):
            base = base_rates.get(cause_id, DEFAULT_BASE_RATE)
            scores[cause_id] = min(scores[cause_id], base)
            held.add(cause_id)
    return frozenset(held)
