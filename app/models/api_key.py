"""A stored API key: only its SHA-256 is kept, with the projects it may see (none listed: all).

Keys are 256-bit random secrets, so a plain hash is enough to make a stolen database useless for
logging in (a password hash's slowness guards low-entropy secrets, which these are not), and it
lets a request's key be found with one indexed lookup.
"""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import JSONText, UTCDateTime, utcnow


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in `keys list` to tell keys apart
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    projects: Mapped[list[str] | None] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
