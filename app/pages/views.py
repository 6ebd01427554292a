"""What each page shows, gathered from the domain services: plain records the templates render.

Nothing here knows HTTP; the router parses the request, calls one of these and renders."""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lossgap_client.probe_report import ProbeReport
from lossgap_client.verdict import LIKELY, verdict
from sqlalchemy.orm import Session

from app.artifacts import service as artifacts
from app.diagnoses import service as diagnoses
from app.jobs import service as jobs
from app.keys.access import Access
from app.models import Job
from app.pages import chart
from app.pages.downsample import thinned_steps
from app.probes import service as probes
from app.runs import service as runs
from app.writeback.plot import curves_png

Badge = Literal["healthy", "benign", "problem"]
RUNS_PER_PAGE = 25


def badge(diagnosis: dict[str, Any]) -> Badge:
    """problem: a problem cause at even odds or better; benign: a benign cause explains it;
    healthy: no cause is likely."""
    said = verdict(diagnosis)
    if said.startswith("problem"):
        return "problem"
    return "benign" if said.startswith("benign") else "healthy"


@dataclass(frozen=True)
class RunRow:
    id: str
    name: str
    project: str | None
    badge: Badge
    top_title: str | None
    top_confidence: float | None
    epochs: int
    steps: int
    updated_at: datetime


@dataclass(frozen=True)
class RunsPage:
    rows: list[RunRow]
    total: int
    page: int
    pages: int
    name: str | None
    project: str | None


def runs_page(
    session: Session, access: Access, name: str | None, project: str | None, page: int
) -> RunsPage:
    found, total = runs.list_runs(
        session,
        access,
        name=name or None,
        project=project or None,
        limit=RUNS_PER_PAGE,
        offset=(page - 1) * RUNS_PER_PAGE,
    )
    rows = []
    for counts in found:
        diagnosis = diagnoses.get_diagnosis(session, counts.run.id)
        top = diagnosis["causes"][0] if diagnosis["causes"] else None
        rows.append(
            RunRow(
                id=counts.run.id,
                name=counts.run.name,
                project=counts.run.project,
                badge=badge(diagnosis),
                top_title=top["title"] if top else None,
                top_confidence=top["confidence"] if top else None,
                epochs=counts.epoch_count,
                steps=counts.step_count,
                updated_at=counts.run.updated_at,
            )
        )
    pages = max(1, math.ceil(total / RUNS_PER_PAGE))
    return RunsPage(rows, total, page, pages, name, project)


@dataclass(frozen=True)
class Report:
    run: runs.RunCounts
    diagnosis: dict[str, Any]
    badge: Badge
    verdict: str
    likely: float
    chart: dict[str, Any]
    probe: ProbeReport | None
    probe_charts: dict[str, Any]
    job: Job | None
    can_reevaluate: bool


def report(session: Session, run_id: str) -> Report:
    counts = runs.get_run(session, run_id)
    diagnosis = diagnoses.get_diagnosis(session, run_id)
    epochs = [runs.epoch_row(record) for record in runs.read_epochs(session, run_id)]
    uploaded = {kind: artifacts.latest(session, run_id, kind) for kind in ("model", "data")}
    probe = probes.latest_report(session, run_id)
    return Report(
        run=counts,
        diagnosis=diagnosis,
        badge=badge(diagnosis),
        verdict=verdict(diagnosis),
        likely=LIKELY,
        chart=chart.payload(epochs, runs.read_steps(session, run_id), diagnosis),
        probe=probe,
        probe_charts=chart.probe_charts(probe),
        job=jobs.latest_for_run(session, run_id),
        can_reevaluate=all(uploaded.values()),
    )


MAX_COMPARED = 4


@dataclass(frozen=True)
class Compared:
    id: str
    name: str
    badge: Badge
    verdict: str


@dataclass(frozen=True)
class Comparison:
    runs: list[Compared]
    chart: dict[str, Any]


def comparison(session: Session, access: Access, run_ids: list[str]) -> Comparison:
    """Up to four runs' training and validation curves on one epoch axis, each with its verdict."""
    shown, curves = [], []
    for run_id in run_ids[:MAX_COMPARED]:
        runs.check_visible(session, access, run_id)
        counts = runs.get_run(session, run_id)
        diagnosis = diagnoses.get_diagnosis(session, run_id)
        shown.append(Compared(run_id, counts.run.name, badge(diagnosis), verdict(diagnosis)))
        curves.append([runs.epoch_row(r) for r in runs.read_epochs(session, run_id)])
    return Comparison(shown, chart.overlay([c.name for c in shown], curves))


IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def curves_image(session: Session, run_id: str, image_format: str) -> tuple[bytes, str]:
    """The run's curves drawn on the server (as written back to trackers): bytes, media type."""
    counts = runs.get_run(session, run_id)
    diagnosis = diagnoses.get_diagnosis(session, run_id)
    epochs = [runs.epoch_row(record) for record in runs.read_epochs(session, run_id)]
    steps = thinned_steps(runs.read_steps(session, run_id))
    title = f"{counts.run.name}: {verdict(diagnosis)}"
    return curves_png(epochs, title, steps, image_format), IMAGE_TYPES[image_format]
