"""The desk's operations and the market: functions that take the request's session first.

The services add and flush, but never commit: the request's session dependency does.
"""

import asyncio
from collections.abc import Sequence
from decimal import Decimal

from pwdlib import PasswordHash
from sqlmodel import Session, col, select

from .exceptions import NotAuthenticated, NotFound
from .models import Operation, Trader
from .schemas import OperationCreate, OperationRead, Quote

# The provider's prices: a stand-in for a market data API that takes a moment to answer.
CENT = Decimal("0.01")
PRICES = {"AAPL": "189.95", "AMZN": "178.40", "MSFT": "415.10", "NVDA": "881.20", "TSLA": "175.90"}


def as_read(operation: Operation) -> OperationRead:
    assert operation.id is not None
    return OperationRead(
        id=operation.id,
        symbol=operation.symbol,
        side=operation.side,  # type: ignore[arg-type]  # stored from a validated Side
        quantity=operation.quantity,
        price=(Decimal(operation.price_cents) / 100).quantize(CENT),
    )


def list_operations(session: Session, limit: int) -> Sequence[OperationRead]:
    rows = session.exec(select(Operation).order_by(col(Operation.id)).limit(limit))
    return [as_read(row) for row in rows]


def get_operation(session: Session, operation_id: int) -> OperationRead:
    operation = session.get(Operation, operation_id)
    if operation is None:
        raise NotFound(f"Operation {operation_id} not found")
    return as_read(operation)


def create_operation(session: Session, data: OperationCreate) -> OperationRead:
    operation = Operation(symbol=data.symbol, side=data.side, quantity=data.quantity, price_cents=int(data.price * 100))
    session.add(operation)
    session.flush()
    return as_read(operation)


def delete_operation(session: Session, operation_id: int) -> None:
    operation = session.get(Operation, operation_id)
    if operation is None:
        raise NotFound(f"Operation {operation_id} not found")
    session.delete(operation)
    session.flush()


async def quote(symbol: str, seconds: float) -> Quote:
    """The provider's latest price of ``symbol``, after ``seconds`` of waiting for it."""
    await asyncio.sleep(seconds)
    if symbol not in PRICES:
        raise NotFound(f"No quotes for symbol {symbol}")
    return Quote(symbol=symbol, price=Decimal(PRICES[symbol]))


def authenticate(session: Session, password_hash: PasswordHash, dummy_hash: str, email: str, password: str) -> Trader:
    """The trader with this email and password; NotAuthenticated otherwise, after the same work either way."""
    trader = session.exec(select(Trader).where(Trader.email == email.lower())).first()
    hashed = trader.hashed_password if trader is not None else dummy_hash
    if not password_hash.verify(password, hashed) or trader is None:
        raise NotAuthenticated("Incorrect email or password")
    return trader
