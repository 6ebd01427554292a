"""Poll a job."""

from fastapi import APIRouter, Depends

from app.deps import SessionDep, visible_job
from app.jobs import service
from app.jobs.schemas import JobOut
from app.system.openapi import errors

router = APIRouter(prefix="/jobs", tags=["re-evaluation"], dependencies=[Depends(visible_job)])


@router.get("/{job_id}", summary="A job's status, progress and error", responses=errors(404))
def get_job(job_id: str, session: SessionDep) -> JobOut:
    return JobOut.model_validate(service.get_job(session, job_id), from_attributes=True)
