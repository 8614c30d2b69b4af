"""Errors of the shop's domain, and how the API reports them: ``{"detail": "..."}`` with a status code.

Services and guards raise these without knowing about HTTP. HTTP-level concerns, such as
who the caller is (401, 403) or a used-up plan (429), are ``HTTPException`` in the dependencies.
"""

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from .schemas import ErrorResponse

ERROR_DESCRIPTIONS = {
    status.HTTP_401_UNAUTHORIZED: "No X-Customer-Id header, or no customer with that id",
    status.HTTP_403_FORBIDDEN: "The order belongs to another customer",
    status.HTTP_404_NOT_FOUND: "No order with this id",
    status.HTTP_409_CONFLICT: "The order's status does not allow this, the order is full, or the balance falls short",
    status.HTTP_429_TOO_MANY_REQUESTS: "The calls included in the customer's plan are used up",
    status.HTTP_503_SERVICE_UNAVAILABLE: "The shop is read-only for maintenance",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` that document these error statuses in the OpenAPI schema."""
    return {code: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


class ShopError(Exception):
    """Something the client asked for that the shop refuses, with a detail the client can act on."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class OrderNotFound(ShopError):
    status_code = status.HTTP_404_NOT_FOUND

    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} not found")


class WrongStatus(ShopError):
    """The order exists and is the caller's, but its status does not allow the operation."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, order_id: int, order_status: str, allowed: Iterable[str]) -> None:
        super().__init__(f"Order {order_id} is {order_status}; this needs an order that is {' or '.join(allowed)}")


class TooManyLines(ShopError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} has as many lines as an order may hold")


class InsufficientBalance(ShopError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, balance_cents: int, total_cents: int) -> None:
        super().__init__(f"The balance of {balance_cents} cents does not cover the total of {total_cents} cents")


async def shop_error_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": getattr(exc, "detail", str(exc))}, status_code=getattr(exc, "status_code", 400))


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ShopError, shop_error_handler)
