"""Dependencies shared by the routers."""

from typing import Annotated

from fastapi import Depends, Request

from .store import TradingStore


async def get_store(request: Request) -> TradingStore:
    """The store of the app handling this request (an ``async`` dependency needs no worker thread)."""
    return request.app.state.store


StoreDep = Annotated[TradingStore, Depends(get_store)]
