"""The routes: quotes (public, cached for everyone), the portfolio (cached per user), the account (never cached).

Each cached route declares its policy with a ``ResponseCache`` dependency and answers through it.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from starlette.concurrency import run_in_threadpool

from . import service
from .dependencies import CurrentUser, MarketDep, SessionDep
from .exceptions import error_responses
from .http_cache import CacheDep, CachedRoute, ResponseCache, route_key
from .ratelimit import TRADE_LIMIT
from .schemas import AccountRead, Currency, PortfolioRead, Quote, Symbol, TradeCreate, TradeRead

# The API: every route needs a trader, and counts against the global rate limit (see app.py).
api = APIRouter(responses=error_responses(status.HTTP_401_UNAUTHORIZED, status.HTTP_429_TOO_MANY_REQUESTS))
# Routes outside the API: no trader, no limit.
public = APIRouter()

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    status.HTTP_304_NOT_MODIFIED: {"description": "The version named in If-None-Match is current"}
}

QuoteCache = Annotated[CachedRoute, Depends(ResponseCache("public", ttl=lambda s: s.quote_ttl_seconds))]
PortfolioCache = Annotated[CachedRoute, Depends(ResponseCache("private", ttl=lambda s: s.portfolio_ttl_seconds))]
AccountCache = Annotated[CachedRoute, Depends(ResponseCache("no-store"))]


@api.get(
    "/quotes/{symbol}",
    response_model=Quote,
    responses={**NOT_MODIFIED, **error_responses(status.HTTP_404_NOT_FOUND)},
    tags=["quotes"],
)
async def read_quote(symbol: Symbol, market: MarketDep, cached: QuoteCache, currency: Currency = "USD") -> Response:
    """The latest quote of a symbol: the same for every trader, so one cache entry serves them all."""
    return await cached.respond(lambda: market.quote(symbol, currency))


@api.get("/portfolio", response_model=PortfolioRead, responses=NOT_MODIFIED, tags=["portfolio"])
async def read_portfolio(user: CurrentUser, session: SessionDep, cached: PortfolioCache) -> Response:
    """What the caller holds: cached per trader."""
    return await cached.respond(lambda: run_in_threadpool(service.portfolio_of, session, user))


@api.post(
    "/portfolio/trades",
    status_code=status.HTTP_201_CREATED,
    response_model=TradeRead,
    responses=error_responses(status.HTTP_409_CONFLICT),
    dependencies=[Depends(TRADE_LIMIT)],
    tags=["portfolio"],
)
async def place_trade(trade: TradeCreate, user: CurrentUser, session: SessionDep, cache: CacheDep) -> TradeRead:
    """Buy or sell; the caller's cached portfolio is forgotten, so the next read shows the trade."""
    placed = await run_in_threadpool(service.place_trade, session, user, trade)
    # Exercise 9.1: Invalidate the caller's cached portfolio: the write changed it
    pass  # nothing is invalidated yet
    return placed


@api.get("/account", response_model=AccountRead, tags=["account"])
async def read_account(user: CurrentUser, cached: AccountCache) -> Response:
    """The caller's cash and bank account: personal data that no cache may keep."""

    async def load() -> AccountRead:
        return service.account_of(user)

    return await cached.respond(load)


@public.get("/health", tags=["health"])
async def health() -> dict[str, str]:
    """For load balancers and monitors: never cached, never rate-limited."""
    return {"status": "ok"}
