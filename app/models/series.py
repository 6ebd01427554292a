"""The loss history: one row per epoch, and per-step losses in columnar chunks.

Epochs are few and arrive one at a time, so a row each (upserted by epoch number) is natural.
Steps arrive by the million; storing them as rows costs a Python object and an index entry per
step. A chunk holds a contiguous, sorted range of steps as compressed numpy columns, and chunks of
one run never overlap in step range, so an append either adds a chunk or merges the few it
overlaps.
"""

from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import ExactFloat, JSONText


class EpochRecord(Base):
    __tablename__ = "epoch_records"

    run_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[float] = mapped_column(Float(precision=53), primary_key=True)
    train_loss: Mapped[float | None] = mapped_column(ExactFloat)
    val_loss: Mapped[float | None] = mapped_column(ExactFloat)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONText)


class StepChunk(Base):
    __tablename__ = "step_chunks"
    __table_args__ = (Index("ix_step_chunks_run_id_first_step", "run_id", "first_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("runs.id", ondelete="CASCADE"))
    first_step: Mapped[int] = mapped_column(BigInteger)
    last_step: Mapped[int] = mapped_column(BigInteger)
    n_rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
