"""Post a probe report computed outside the workers (the client's `probe()`), or read them."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, status
from lossgap_client.probe_report import ProbeReport
from pydantic import BaseModel, ConfigDict

from app.deps import SessionDep, visible_run
from app.probes import service
from app.system.openapi import errors

router = APIRouter(prefix="/runs", tags=["re-evaluation"], dependencies=[Depends(visible_run)])


class ProbeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "7c2e5b10-3f4d-4a51-9a0e-0d6f1c2b9e44",
                    "run_id": "f98334cd-9f16-4f8f-8e0d-2dcaae4acbe4",
                    "job_id": "b584e093-f0bb-468f-8e3c-7194a0cc6fa8",
                    "source": "worker",
                    "created_at": "2026-12-01T17:24:01.101010Z",
                    "report": {
                        "source": "worker",
                        "task": "classification",
                        "loss": "cross_entropy",
                    },
                }
            ]
        }
    )

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
    responses=errors(400, 404, 413),
)
def post_probe(run_id: str, body: ProbeReport, session: SessionDep) -> ProbeOut:
    """For models that cannot be exported to TorchScript: the same report the workers write,
    validated and used by the diagnosis identically."""
    return ProbeOut.model_validate(service.record(session, run_id, body), from_attributes=True)


@router.get(
    "/{run_id}/probes", summary="A run's probe reports, newest first", responses=errors(404)
)
def list_probes(run_id: str, session: SessionDep) -> list[ProbeOut]:
    return [
        ProbeOut.model_validate(p, from_attributes=True)
        for p in service.list_probes(session, run_id)
    ]
