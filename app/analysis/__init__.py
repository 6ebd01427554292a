"""The gap analysis: a pure package, loss history in, diagnosis out.

It imports nothing from the web layer or the database, so it runs the same inside the API, in a
worker, and in `lossgap diagnose FILE` without a server.
"""

from app.analysis.diagnose import ENGINE_VERSION, diagnose, engine_version
from app.analysis.history import History, Series
from app.analysis.result import Cause, Check, Diagnosis, Evidence

__all__ = [
    "ENGINE_VERSION",
    "Cause",
    "Check",
    "Diagnosis",
    "Evidence",
    "History",
    "Series",
    "diagnose",
    "engine_version",
]
