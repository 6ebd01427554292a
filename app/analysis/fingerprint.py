"""A fingerprint of the code that turns a history into features and symptoms.

The fitted parameters (`model_params.json`) are valid only for the features they were fitted on:
`bench/fit_model.py` writes this fingerprint beside them, a test fails when a check, a symptom or
the catalog changes without a refit, and the engine version carries it, so stored diagnoses are
recomputed whenever it changes.
"""

from hashlib import sha256
from pathlib import Path

HERE = Path(__file__).parent
SOURCES = (
    "catalog.py",
    "config_keys.py",
    "curves.py",
    "history.py",
    "probe.py",
    "stats.py",
)
PACKAGES = ("checks", "symptoms")


def fingerprint() -> str:
    digest = sha256()
    packaged = [path for package in PACKAGES for path in (HERE / package).glob("*.py")]
    for path in sorted([*(HERE / name for name in SOURCES), *packaged]):
        digest.update(path.relative_to(HERE).as_posix().encode())
        digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
    return digest.hexdigest()[:12]


FEATURES_FINGERPRINT = fingerprint()
