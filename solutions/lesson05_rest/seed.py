"""The records every app starts with: added in order to new tables, they get the ids 1, 2, 3…"""

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from .accounts.models import Account
from .operations.models import Operation

ACCOUNTS = (
    ("ACC-1001", "Maria Rossi", "EUR"),
    ("ACC-1002", "James Okafor", "USD"),
    ("ACC-1003", "Sofia Lindqvist", "SEK"),
)
OPERATIONS = (
    (1, "AAPL", "buy", "10", "189.50", date(2024, 3, 1)),
    (1, "SAP", "sell", "4", "171.20", date(2024, 3, 4)),
    (2, "VWRL", "buy", "12.5", "103.14", date(2024, 3, 5)),
    (2, "MSFT", "buy", "3", "410.10", date(2024, 3, 6)),
    (1, "ASML", "buy", "2", "905.30", date(2024, 3, 7)),
    (2, "AAPL", "sell", "5", "172.80", date(2024, 3, 8)),
)


def add_seed_data(session: Session) -> None:
    """Add the starting records, in order, to a database with empty tables."""
    for number, owner, currency in ACCOUNTS:
        session.add(Account(number=number, owner=owner, currency=currency))
    session.flush()
    for account_id, ticker, side, quantity, price, trade_date in OPERATIONS:
        session.add(
            Operation(
                account_id=account_id,
                ticker=ticker,
                side=side,
                quantity=Decimal(quantity),
                price=Decimal(price),
                trade_date=trade_date,
            )
        )
