"""Building blocks the domains share."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Ids are 32-bit integers in the database: a larger number can name no record.
MAX_ID = 2**31 - 1
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
# A name or other free text: no control characters, which PostgreSQL would refuse in a string (NUL).
Text = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


class PartialUpdate(BaseModel):
    """Base of PATCH bodies: send only the fields to change.

    A field left out keeps its value. A field sent as ``null`` is refused, because
    none of the stored fields may be empty. Unknown fields are refused too.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value
