"""Store probe reports and read the one a diagnosis uses (the newest).

Storing a report bumps the run's data version, so the next diagnosis is recomputed with it. A
worker's report is keyed by its job id: a job that runs twice (its first worker died) replaces
its report instead of adding a second.
"""

import uuid

from lossgap_client.probe_report import STORED, ProbeReport
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.types import utcnow
from app.db.upsert import upsert
from app.models import StoredProbe
from app.runs import service as runs


def record(
    session: Session, run_id: str, report: ProbeReport, job_id: str | None = None
) -> StoredProbe:
    runs.bump_version(session, run_id)
    body = report.model_dump(mode="json")
    if job_id is None:
        probe = StoredProbe(id=str(uuid.uuid4()), run_id=run_id, source=report.source, report=body)
        session.add(probe)
        session.flush()
        return probe
    session.execute(
        upsert(session, StoredProbe, ["job_id"], ["report", "source", "created_at"]),
        [
            {
                "id": str(uuid.uuid4()),
                "run_id": run_id,
                "job_id": job_id,
                "source": report.source,
                "report": body,
                "created_at": utcnow(),
            }
        ],
    )
    stored = session.scalars(select(StoredProbe).where(StoredProbe.job_id == job_id)).one()
    return stored


def latest_report(session: Session, run_id: str) -> ProbeReport | None:
    """The newest report, typed (stored reports were validated when they arrived)."""
    probe = session.scalars(
        select(StoredProbe)
        .where(StoredProbe.run_id == run_id)
        .order_by(StoredProbe.created_at.desc())
        .limit(1)
    ).first()
    return ProbeReport.model_validate(probe.report, context=STORED) if probe else None


def list_probes(session: Session, run_id: str) -> list[StoredProbe]:
    runs.find_run(session, run_id)
    return list(
        session.scalars(
            select(StoredProbe)
            .where(StoredProbe.run_id == run_id)
            .order_by(StoredProbe.created_at.desc())
        )
    )
