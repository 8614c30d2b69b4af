"""The desk's JSON API: a FastAPI application of its own, with its own lifespan and error handlers.

Served alone (``uvicorn ...api:app``) it runs its lifespan itself. Mounted under ``/api`` in the
web app it does not: Starlette sends lifespan events to the outer app only, so the outer app's
lifespan must run this one (see ``app.py``).
"""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response, status
from fastapi import Path as PathParam

from . import service
from .config import Settings
from .database import open_database
from .dependencies import PricesDep, SessionDep
from .exceptions import add_api_error_handlers
from .schemas import MAX_ID, ErrorResponse, OperationCreate, OperationRead, Quote, Symbol

PRICES_FILE = Path(__file__).resolve().parent / "prices.json"

operations = APIRouter(prefix="/operations", tags=["operations"])
market = APIRouter(prefix="/quotes", tags=["market"])

OperationId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "No such operation"}}


def load_prices(path: Path) -> dict[str, Decimal]:
    prices: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return {symbol: Decimal(price) for symbol, price in prices.items()}


@operations.get("", response_model=list[OperationRead])
def list_operations(session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Sequence[OperationRead]:
    """The desk's operations, oldest first."""
    return service.list_operations(session, limit)


@operations.post("", status_code=status.HTTP_201_CREATED, response_model=OperationRead)
def create_operation(data: OperationCreate, session: SessionDep, request: Request, response: Response) -> OperationRead:
    """Record an operation; `Location` says where to find it."""
    operation = service.create_operation(session, data)
    response.headers["Location"] = str(request.url_for("get_operation", operation_id=operation.id))
    return operation


@operations.get("/{operation_id}", response_model=OperationRead, responses=NOT_FOUND)
def get_operation(operation_id: OperationId, session: SessionDep) -> OperationRead:
    return service.get_operation(session, operation_id)


@market.get("/{symbol}", response_model=Quote, responses=NOT_FOUND)
def get_quote(symbol: Annotated[Symbol, PathParam()], prices: PricesDep) -> Quote:
    """The latest price of a symbol, from the price book loaded at start-up."""
    return service.quote(prices, symbol)


def create_api(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[dict[str, Any]]:
        """Open the database and load the price book: what every API request reads from ``request.state``."""
        async with open_database(settings.database_url) as engine:
            yield {"engine": engine, "prices": load_prices(PRICES_FILE)}

    api = FastAPI(
        title=f"{settings.app_name} API",
        version="14.0.0",
        summary="Lesson 14: the trading desk's JSON API, mounted under /api",
        lifespan=lifespan,
    )
    add_api_error_handlers(api)
    api.include_router(operations)
    api.include_router(market)
    return api
