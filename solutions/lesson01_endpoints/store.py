"""An in-memory store: enough to learn endpoints before databases arrive in lesson 03."""

from .schemas import Trade, TradeCreate, User

SEED_USERS = [
    User(id=1, name="Ada", role="admin"),
    User(id=2, name="Grace", role="investor"),
    User(id=3, name="Linus", role="trader"),
]
SEED_TRADES = [
    Trade(id=1, user_id=1, currency="BTC", side="buy", price=64000.0, amount=0.5),
    Trade(id=2, user_id=1, currency="BTC", side="sell", price=65500.0, amount=0.25),
    Trade(id=3, user_id=3, currency="ETH", side="buy", price=3100.0, amount=2.0),
    # Stored as a client sent it: nothing normalises the case of a currency yet.
    Trade(id=4, user_id=3, currency="eth", side="sell", price=3150.0, amount=0.5),
]


class TradingStore:
    """Users and trades of one app instance; each instance starts from the same seed."""

    def __init__(self) -> None:
        self.users = {user.id: user for user in SEED_USERS}
        self.trades = {trade.id: trade for trade in SEED_TRADES}

    def add_trade(self, data: TradeCreate) -> Trade:
        trade = Trade(id=max(self.trades, default=0) + 1, **data.model_dump())
        self.trades[trade.id] = trade
        return trade
