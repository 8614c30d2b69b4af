"""The base of every model in this app: one place to decide how values look on the wire."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, field_validator


class TradingModel(BaseModel):
    """Shared behaviour for request, response and stored models."""

    # BEGIN SOLUTION 2.3: Make every datetime UTC with an explicit offset; naive ones are UTC already
    @field_validator("*")
    @classmethod
    def datetimes_in_utc(cls, value: Any) -> Any:
        """Naive datetimes are UTC by this app's convention; aware ones are converted to UTC.

        An aware UTC datetime serialises with an explicit offset, ``2024-03-01T14:30:00Z``.
        """
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    # STUB
    # END SOLUTION
