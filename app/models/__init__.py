"""ORM models. Importing this package registers every table on `Base.metadata`."""

from app.models.api_key import ApiKey
from app.models.artifact import Artifact
from app.models.diagnosis import StoredDiagnosis
from app.models.job import Job, JobStatus
from app.models.probe import StoredProbe
from app.models.run import Run
from app.models.series import EpochRecord, StepChunk

__all__ = [
    "ApiKey",
    "Artifact",
    "EpochRecord",
    "Job",
    "JobStatus",
    "Run",
    "StepChunk",
    "StoredDiagnosis",
    "StoredProbe",
]
