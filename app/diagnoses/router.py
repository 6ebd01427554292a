"""GET a run's diagnosis."""

from fastapi import APIRouter, Depends

from app.deps import SessionDep, visible_run
from app.diagnoses import service
from app.diagnoses.schemas import DiagnosisOut
from app.system.openapi import errors

router = APIRouter(prefix="/runs", tags=["diagnosis"], dependencies=[Depends(visible_run)])


@router.get(
    "/{run_id}/diagnosis",
    summary="Ranked likely causes of the run's loss gap",
    responses=errors(404),
)
def get_diagnosis(run_id: str, session: SessionDep) -> DiagnosisOut:
    return DiagnosisOut.model_validate(service.get_diagnosis(session, run_id))
