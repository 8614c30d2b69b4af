"""The desk's operations and prices: functions that take the request's session (or price book) first.

The services add and flush, but never commit: the request's session dependency does.
Pages and the API call the same functions.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlmodel import Session, col, select

from .exceptions import NotFound
from .models import Operation
from .schemas import OperationCreate, OperationRead, Quote

CENT = Decimal("0.01")


def as_read(operation: Operation) -> OperationRead:
    assert operation.id is not None
    return OperationRead(
        id=operation.id,
        symbol=operation.symbol,
        side=operation.side,  # type: ignore[arg-type]  # stored from a validated Side
        quantity=operation.quantity,
        price=(Decimal(operation.price_cents) / 100).quantize(CENT),
        note=operation.note,
    )


def list_operations(session: Session, limit: int = 100) -> Sequence[OperationRead]:
    rows = session.exec(select(Operation).order_by(col(Operation.id)).limit(limit))
    return [as_read(row) for row in rows]


def get_operation(session: Session, operation_id: int) -> OperationRead:
    operation = session.get(Operation, operation_id)
    if operation is None:
        raise NotFound(f"Operation {operation_id} not found")
    return as_read(operation)


def create_operation(session: Session, data: OperationCreate) -> OperationRead:
    operation = Operation(
        symbol=data.symbol,
        side=data.side,
        quantity=data.quantity,
        price_cents=int(data.price * 100),
        note=data.note,
    )
    session.add(operation)
    session.flush()
    return as_read(operation)


def quote(prices: Mapping[str, Decimal], symbol: str) -> Quote:
    if symbol not in prices:
        raise NotFound(f"No quotes for symbol {symbol}")
    return Quote(symbol=symbol, price=prices[symbol])
