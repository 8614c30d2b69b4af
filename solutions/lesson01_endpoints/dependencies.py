"""Dependencies shared by the routers."""

from typing import Annotated

from fastapi import Depends, Request

from .store import TradingStore


def get_store(request: Request) -> TradingStore:
    return request.app.state.store


StoreDep = Annotated[TradingStore, Depends(get_store)]
