"""The traders every app starts with, and what they hold. Their API keys are their bearer tokens."""

from sqlmodel import Session

from .models import Position, User

USERS = (
    # name, API key, IBAN, cash in cents, positions
    ("Alice Martin", "alice-key-7f3a", "DE89 3704 0044 0532 0130 00", 2_500_000, {"AAPL": 10, "MSFT": 5}),
    ("Bob Chen", "bob-key-52c1", "GB29 NWBK 6016 1331 9268 19", 800_000, {"SAP": 20}),
)


def add_seed(session: Session) -> None:
    """Add the starting rows, in order, to empty tables: alice is user 1, bob user 2."""
    for name, api_key, iban, cash_cents, positions in USERS:
        user = User(name=name, api_key=api_key, iban=iban, cash_cents=cash_cents)
        session.add(user)
        session.flush()
        for symbol, quantity in positions.items():
            session.add(Position(user_id=user.id or 0, symbol=symbol, quantity=quantity))
