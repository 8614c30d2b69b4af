"""Routes: the desk's operations, market quotes, and a cookie session for the desk's web page."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from . import service
from .dependencies import CurrentTrader, PasswordHashDep, SessionDep, SettingsDep
from .exceptions import error_responses
from .models import Trader
from .schemas import MAX_ID, Credentials, OperationCreate, OperationRead, Quote, Symbol, TraderRead
from .sessions import clear_session_cookie, create_session_token, set_session_cookie

operations = APIRouter(prefix="/operations", tags=["operations"])
market = APIRouter(prefix="/quotes", tags=["market"])
auth = APIRouter(prefix="/auth", tags=["auth"])

OperationId = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_FOUND = error_responses(status.HTTP_404_NOT_FOUND)
UNAUTHORIZED = error_responses(status.HTTP_401_UNAUTHORIZED)


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


@operations.delete(
    "/{operation_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=NOT_FOUND
)
def delete_operation(operation_id: OperationId, session: SessionDep) -> None:
    service.delete_operation(session, operation_id)


@market.get("/{symbol}", response_model=Quote, responses=NOT_FOUND)
async def get_quote(symbol: Annotated[Symbol, Path()], settings: SettingsDep) -> Quote:
    """The latest price, from a provider that takes TRADING_QUOTE_SECONDS to answer."""
    return await service.quote(symbol, settings.quote_seconds)


@auth.post("/session", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=UNAUTHORIZED)
def sign_in(
    credentials: Credentials,
    request: Request,
    response: Response,
    session: SessionDep,
    password_hash: PasswordHashDep,
    settings: SettingsDep,
) -> None:
    """Sign in with email and password: the answer sets an HttpOnly session cookie."""
    dummy_hash: str = request.app.state.dummy_hash
    trader = service.authenticate(session, password_hash, dummy_hash, credentials.email, credentials.password)
    set_session_cookie(response, create_session_token(trader.email, settings), settings)


@auth.delete("/session", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def sign_out(response: Response, settings: SettingsDep) -> None:
    """Drop the session cookie."""
    clear_session_cookie(response, settings)


@auth.get("/me", response_model=TraderRead, responses=UNAUTHORIZED)
def read_me(trader: CurrentTrader) -> Trader:
    """The trader the session cookie names."""
    return trader
