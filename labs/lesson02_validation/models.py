"""What the store keeps: an operation with the fields the API must not show.

In lesson 03 this becomes a database table.
"""

from .schemas import Note, OperationRead


class OperationRecord(OperationRead):
    """A stored operation. Routes annotated ``-> OperationRead`` return only the public fields."""

    owner_note: Note | None = None
