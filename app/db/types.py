"""Column types that keep non-finite numbers exactly.

A NaN loss is evidence (the run diverged) and must not turn into "not measured". SQLite stores a
bound NaN as NULL, so on SQLite NaN travels as the text 'NaN' (a REAL-affinity column keeps text it
cannot parse as a number) and comes back as float('nan'). Postgres stores NaN natively. JSON columns
are text written by Python's json module, which writes and reads NaN and Infinity; Postgres' json
type would reject them.
"""

import json
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Float, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_NAN_TEXT = "NaN"


class _UncoercedFloat(Float[float]):
    """A float column whose values reach the driver as given (Float would coerce 'NaN' back)."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None


class ExactFloat(TypeDecorator[float]):
    impl = Float(precision=53)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_UncoercedFloat(precision=53))
        return dialect.type_descriptor(Float(precision=53))

    def process_bind_param(self, value: float | None, dialect: Dialect) -> Any:
        if value is not None and dialect.name == "sqlite" and math.isnan(value):
            return _NAN_TEXT
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        if value is None:
            return None
        if value == _NAN_TEXT:
            return math.nan
        return float(value)


class JSONText(TypeDecorator[Any]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), allow_nan=True)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
