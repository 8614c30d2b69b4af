"""The base of every model in this app: one place to decide how values look on the wire."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, field_validator


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC. A datetime without an offset is already UTC, by this app's convention.

    ``moment.astimezone(UTC)`` alone would read such a datetime as the server's local time.
    """
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class TradingModel(BaseModel):
    """Shared behaviour for request, response and stored models."""

    # BEGIN SOLUTION 2.3: Make every datetime of every model UTC, with an explicit offset
    @field_validator("*")
    @classmethod
    def datetimes_in_utc(cls, value: Any) -> Any:
        """An aware UTC datetime serialises with an explicit offset, ``2024-03-01T14:30:00Z``."""
        return as_utc(value) if isinstance(value, datetime) else value

    # STUB
    # END SOLUTION
