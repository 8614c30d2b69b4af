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
    # Exercise 1.2: Filter trades by an optional currency query parameter, ignoring case
) -> list[Trade]:
    """Trades in id order, one page at a time, optionally of one currency."""
    # Exercise 1.2: Filter trades by an optional currency query parameter, ignoring case
    trades = list(store.trades.values())
    return trades[offset : offset + limit]


# Exercise 1.4: Add GET /trades/mine: the trades of the user in the X-User-Id header, 404 if unknown


@router.get("/{trade_id}", responses={404: {"description": "No trade with this id"}})
async def get_trade(trade_id: int, store: StoreDep) -> Trade:
    """One trade by id."""
    trade = store.trades.get(trade_id)
    if trade is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Trade {trade_id} not found")
    return trade


# Exercise 1.3: Create the trade: 201 with the stored trade, or 404 if its user does not exist
@router.post("")
async def create_trade(data: TradeCreate, store: StoreDep) -> Trade:
    """Record a trade for an existing user; the server assigns its id."""
    # Exercise 1.3: Create the trade: 201 with the stored trade, or 404 if its user does not exist
    raise NotImplementedError('Exercise 1.3: Create the trade: 201 with the stored trade, or 404 if its user does not exist')
