"""What the API accepts and returns."""

from typing import Literal

from pydantic import BaseModel

Role = Literal["admin", "investor", "trader"]
Side = Literal["buy", "sell"]


class User(BaseModel):
    id: int
    name: str
    role: Role


class TradeCreate(BaseModel):
    """A new trade as a client sends it: the server assigns the id."""

    user_id: int
    currency: str
    side: Side
    price: float
    amount: float


class Trade(TradeCreate):
    id: int
