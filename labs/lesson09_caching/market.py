"""A stand-in for a market data provider: slow, and its prices move with every quote it serves.

A real provider is a paid API across the network. This one waits ``provider_delay_seconds``
per quote, and keeps its tick counters in Redis, so every instance of the app sees one market.
Each quote it serves has the next tick of its symbol, and the price moves a cent per tick: a
quote that comes back with the same tick was served from a cache.
"""

import asyncio
from decimal import Decimal

from redis.asyncio import Redis

from .exceptions import UnknownSymbol
from .schemas import Currency, Quote

# Prices in US dollars at tick 0, and the exchange rates the provider quotes in.
BASE_PRICES = {
    "AAPL": Decimal("189.50"),
    "ASML": Decimal("905.30"),
    "MSFT": Decimal("410.10"),
    "NVDA": Decimal("880.00"),
    "SAP": Decimal("171.20"),
}
USD_RATES: dict[Currency, Decimal] = {"USD": Decimal("1"), "EUR": Decimal("0.92"), "GBP": Decimal("0.79")}
CENT = Decimal("0.01")


class MarketData:
    """The provider's client, one per app."""

    def __init__(self, redis: Redis, prefix: str, delay_seconds: float) -> None:
        self.redis, self.prefix, self.delay_seconds = redis, prefix, delay_seconds

    async def quote(self, symbol: str, currency: Currency) -> Quote:
        """The latest quote of ``symbol``; UnknownSymbol if the provider does not list it."""
        await asyncio.sleep(self.delay_seconds)  # the round trip to the provider
        if symbol not in BASE_PRICES:
            raise UnknownSymbol(symbol)
        tick = await self.redis.incr(f"{self.prefix}market:tick:{symbol}")
        price = ((BASE_PRICES[symbol] + tick * CENT) * USD_RATES[currency]).quantize(CENT)
        return Quote(symbol=symbol, currency=currency, price=price, tick=tick)
