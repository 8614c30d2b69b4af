"""Errors of the trading domain, and how the API reports them: ``{"detail": "..."}`` with a status code.

Services and the market raise these without knowing about HTTP. HTTP-level concerns, such as
who the caller is (401) or a rate limit (429), are ``HTTPException`` in the dependencies.
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from .schemas import ErrorResponse

ERROR_DESCRIPTIONS = {
    status.HTTP_401_UNAUTHORIZED: "No bearer token, or one that names no trader",
    status.HTTP_404_NOT_FOUND: "The provider has no quotes for this symbol",
    status.HTTP_409_CONFLICT: "Not enough cash for the purchase, or not enough shares for the sale",
    status.HTTP_429_TOO_MANY_REQUESTS: "Too many requests in this window: retry after Retry-After seconds",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` that document these error statuses in the OpenAPI schema."""
    return {code: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


class TradingError(Exception):
    """Something the client asked for that the domain refuses, with a detail the client can act on."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownSymbol(TradingError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, symbol: str) -> None:
        super().__init__(f"No quotes for symbol {symbol}")


class UntradableSymbol(TradingError):
    """A trade names a symbol the market does not list: the body is wrong, hence 422."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT

    def __init__(self, symbol: str) -> None:
        super().__init__(f"Symbol {symbol} is not traded here")


class InsufficientFunds(TradingError):
    status_code = status.HTTP_409_CONFLICT


async def trading_error_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": getattr(exc, "detail", str(exc))}, status_code=getattr(exc, "status_code", 400))


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TradingError, trading_error_handler)
