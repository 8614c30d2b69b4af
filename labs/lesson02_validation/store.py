"""An in-memory store of operations; every app instance starts from the same seed."""

from datetime import datetime

from .models import OperationRecord
from .schemas import InstrumentType, OperationCreate, OperationUpdate, Side

# Imported from the old back office, whose export wrote UTC times without an offset.
SEED_OPERATIONS = (
    OperationRecord(
        id=1,
        ticker="AAPL",
        instrument_type="share",
        side="buy",
        quantity="10",
        price="189.50",
        currency="USD",
        executed_at=datetime(2024, 3, 1, 14, 30),
        settled_at=datetime(2024, 3, 4, 14, 30),
        owner_note="Client asked to stay under 2% of the portfolio",
    ),
    OperationRecord(
        id=2,
        ticker="SAP",
        instrument_type="share",
        side="sell",
        quantity="4",
        price="171.20",
        currency="EUR",
        executed_at=datetime(2024, 3, 4, 9, 15),
        owner_note="Margin call, see ticket OPS-112",
    ),
    OperationRecord(
        id=3,
        ticker="VWRL",
        instrument_type="etf",
        side="buy",
        quantity="12.5",
        price="103.14",
        currency="EUR",
        executed_at=datetime(2024, 3, 5, 8, 0),
        settled_at=datetime(2024, 3, 7, 8, 0),
    ),
    OperationRecord(
        id=4,
        ticker="GBPUSD",
        instrument_type="currency",
        side="sell",
        quantity="1000",
        price="1.2634",
        currency="USD",
        executed_at=datetime(2024, 3, 6, 16, 45),
    ),
)


class OperationStore:
    """Operations of one app instance. Records are replaced, never changed in place."""

    def __init__(self) -> None:
        self._operations = {operation.id: operation for operation in SEED_OPERATIONS}

    def list(
        self, *, side: Side | None, instrument_type: InstrumentType | None, limit: int, offset: int
    ) -> list[OperationRecord]:
        matching = [
            operation
            for operation in self._operations.values()
            if (side is None or operation.side == side)
            and (instrument_type is None or operation.instrument_type == instrument_type)
        ]
        return matching[offset : offset + limit]

    def get(self, operation_id: int) -> OperationRecord | None:
        return self._operations.get(operation_id)

    def add(self, data: OperationCreate) -> OperationRecord:
        record = OperationRecord(id=max(self._operations, default=0) + 1, **data.model_dump())
        self._operations[record.id] = record
        return record

    def update(self, record: OperationRecord, changes: OperationUpdate) -> OperationRecord:
        """Apply the fields the client sent, then validate the result as a whole.

        Raises ``pydantic.ValidationError`` when the merged operation breaks a rule,
        such as a settlement before the execution.
        """
        merged = {**record.model_dump(), **changes.model_dump(exclude_unset=True)}
        updated = OperationRecord.model_validate(merged)
        self._operations[updated.id] = updated
        return updated
