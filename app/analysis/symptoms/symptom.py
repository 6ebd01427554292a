"""One measured symptom: present or not, with its effect size and the sentence that says it."""

from collections.abc import Mapping
from dataclasses import dataclass

from app.analysis.finding import Finding


@dataclass(frozen=True)
class Symptom:
    id: str
    present: bool
    value: float | None  # the effect size, in `unit`
    unit: str
    detail: str


Symptoms = Mapping[str, Symptom]


def present(symptoms: Symptoms) -> frozenset[str]:
    return frozenset(s.id for s in symptoms.values() if s.present)


def fields(s: Symptom) -> tuple[bool, float | None, str, str]:
    return s.present, s.value, s.unit, s.detail


def check_feature(findings: Mapping[str, Finding], check: str, name: str) -> float:
    f = findings.get(check)
    return float(f.features.get(name, 0.0)) if f is not None else 0.0


def check_flagged(findings: Mapping[str, Finding], check: str) -> bool:
    f = findings.get(check)
    return f is not None and f.status == "flagged"
