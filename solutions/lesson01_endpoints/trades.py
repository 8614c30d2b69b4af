"""Routes for trades: pagination, a request body, a header and status codes.

No service layer yet: routes use the store directly and raise ``HTTPException``.
Lesson 03 moves this work into services that raise domain errors.
"""

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, status

from .dependencies import StoreDep
from .schemas import Trade, TradeCreate

router = APIRouter(prefix="/trades", tags=["trades"])


@router.get("")
async def list_trades(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    # BEGIN SOLUTION 1.2: Filter trades by an optional currency query parameter, ignoring case
    currency: str | None = None,
    # STUB
    # END SOLUTION
) -> list[Trade]:
    """Trades in id order, one page at a time, optionally of one currency."""
    # BEGIN SOLUTION 1.2: Filter trades by an optional currency query parameter, ignoring case
    trades = [
        trade for trade in store.trades.values() if currency is None or trade.currency.upper() == currency.upper()
    ]
    # STUB
    # trades = list(store.trades.values())
    # END SOLUTION
    return trades[offset : offset + limit]


# BEGIN SOLUTION 1.4: Add GET /trades/mine: the trades of the user in the X-User-Id header, 404 if unknown
@router.get("/mine", responses={404: {"description": "No user with this id"}})
async def my_trades(store: StoreDep, x_user_id: Annotated[int, Header()]) -> list[Trade]:
    """The trades of the user named by the ``X-User-Id`` header."""
    if x_user_id not in store.users:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"User {x_user_id} not found")
    return [trade for trade in store.trades.values() if trade.user_id == x_user_id]


# STUB
# END SOLUTION


@router.get("/{trade_id}", responses={404: {"description": "No trade with this id"}})
async def get_trade(trade_id: int, store: StoreDep) -> Trade:
    """One trade by id."""
    trade = store.trades.get(trade_id)
    if trade is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Trade {trade_id} not found")
    return trade


# BEGIN SOLUTION 1.3: Create the trade: 201 with the stored trade, or 404 if its user does not exist
@router.post("", status_code=status.HTTP_201_CREATED, responses={404: {"description": "No user with this id"}})
# STUB
# @router.post("")
# END SOLUTION
async def create_trade(data: TradeCreate, store: StoreDep) -> Trade:
    """Record a trade for an existing user; the server assigns its id."""
    # BEGIN SOLUTION 1.3: Create the trade: 201 with the stored trade, or 404 if its user does not exist
    if data.user_id not in store.users:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"User {data.user_id} not found")
    return store.add_trade(data)
    # END SOLUTION
