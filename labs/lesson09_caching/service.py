"""The trading domain: portfolios, accounts and trades. Functions take the session first, flush, never commit."""

from decimal import Decimal

from sqlmodel import Session, select

from .exceptions import InsufficientFunds, UntradableSymbol
from .market import BASE_PRICES, CENT
from .models import Position, Trade, User
from .schemas import AccountRead, PortfolioRead, PositionRead, TradeCreate, TradeRead


def portfolio_of(session: Session, user: User) -> PortfolioRead:
    """What ``user`` holds, by symbol."""
    positions = session.exec(select(Position).where(Position.user_id == user.id).order_by(Position.symbol)).all()
    return PortfolioRead(
        owner=user.name,
        positions=[PositionRead(symbol=p.symbol, quantity=p.quantity) for p in positions if p.quantity],
    )


def account_of(user: User) -> AccountRead:
    return AccountRead(owner=user.name, iban=user.iban, cash=(Decimal(user.cash_cents) / 100).quantize(CENT))


def place_trade(session: Session, user: User, trade: TradeCreate) -> TradeRead:
    """Buy or sell: the position and the cash change together; InsufficientFunds if either falls short."""
    if trade.symbol not in BASE_PRICES:
        raise UntradableSymbol(trade.symbol)
    position = session.exec(
        select(Position).where(Position.user_id == user.id, Position.symbol == trade.symbol)
    ).first() or Position(user_id=user.id or 0, symbol=trade.symbol, quantity=0)
    total_cents = int(trade.price * 100) * trade.quantity  # prices have two decimals at most
    if trade.side == "buy":
        if total_cents > user.cash_cents:
            raise InsufficientFunds(
                f"The purchase costs {(Decimal(total_cents) / 100).quantize(CENT)}; the cash is {account_of(user).cash}"
            )
        user.cash_cents -= total_cents
        position.quantity += trade.quantity
    else:
        if trade.quantity > position.quantity:
            raise InsufficientFunds(f"You hold {position.quantity} {trade.symbol}; the sale is of {trade.quantity}")
        user.cash_cents += total_cents
        position.quantity -= trade.quantity
    price_cents = int(trade.price * 100)
    record = Trade(
        user_id=user.id or 0, symbol=trade.symbol, side=trade.side, quantity=trade.quantity, price_cents=price_cents
    )
    session.add_all([user, position, record])
    session.flush()
    return TradeRead(
        id=record.id or 0, symbol=record.symbol, side=trade.side, quantity=record.quantity, price=trade.price
    )
