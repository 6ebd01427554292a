"""Post a probe report computed outside the workers (the client's `probe()`), or read them."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from lossgap_client.probe_report import ProbeReport
from pydantic import BaseModel

from app.deps import SessionDep
from app.probes import service

router = APIRouter(prefix="/runs", tags=["re-evaluation"])


class ProbeOut(BaseModel):
    id: str
    run_id: str
    job_id: str | None
    source: str
    created_at: datetime
    report: dict[str, Any]


@router.post(
    "/{run_id}/probes",
    status_code=status.HTTP_201_CREATED,
    summary="Attach a probe report computed in your own process",
)
def post_probe(run_id: str, body: ProbeReport, session: SessionDep) -> ProbeOut:
    """For models that cannot be exported to TorchScript: the same report the workers write,
    validated and used by the diagnosis identically."""
    return ProbeOut.model_validate(service.record(session, run_id, body), from_attributes=True)


@router.get("/{run_id}/probes", summary="A run's probe reports, newest first")
def list_probes(run_id: str, session: SessionDep) -> list[ProbeOut]:
    return [
        ProbeOut.model_validate(p, from_attributes=True)
        for p in service.list_probes(session, run_id)
    ]
