"""The dependencies of the shop: one session per request, the caller, guarded orders and an outbox.

Each has an ``Annotated`` alias (``SessionDep``, ``CurrentCustomer``, ``OwnedOrder``...), so a
route declares what it needs in one word, and FastAPI solves the chain: an owned order needs a
valid order and the caller; both need the session. Within one request each dependency runs
once, and every part of the chain receives that one result.
"""

import pathlib
import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import APIKeyHeader
from sqlalchemy import Engine
from sqlmodel import Session

from . import service
from .config import Settings
from .exceptions import WrongStatus
from .models import Customer, Order
from .outbox import Outbox, deliver
from .schemas import MAX_ID, OrderStatus
from .tracing import log

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CUSTOMER_ID = re.compile(r"^[1-9][0-9]{0,9}$")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_outbox_dir(request: Request) -> pathlib.Path:
    directory: pathlib.Path = request.app.state.outbox_dir
    return directory


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
OutboxDirDep = Annotated[pathlib.Path, Depends(get_outbox_dir)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """One session, and one transaction, per request: services flush, this dependency commits.

    The code after ``yield`` runs when the route is done, and receives what it raised:
    commit if it succeeded, roll back if anything raised (the route, a service, another
    dependency), and close the session in every case.
    """
    log.debug("get_session: open a session")
    with Session(engine) as session:
        try:
            yield session
        except Exception as error:
            log.debug("get_session: roll back (%s)", type(error).__name__)
            session.rollback()
            raise
        log.debug("get_session: commit")
        session.commit()


# scope="function": the transaction ends before the response is sent, so a client never gets
# a success for a change that then failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# --- who is calling ------------------------------------------------------------------------------

# A stand-in for real authentication (lesson 07): the caller names their customer id in a header.
# APIKeyHeader is a class dependency of FastAPI's own: no header → 401 with WWW-Authenticate.
customer_key = APIKeyHeader(name="X-Customer-Id", description="Your customer id (real authentication: lesson 07)")


def unknown_customer() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "Unknown customer", headers={"WWW-Authenticate": "APIKey"})


def current_customer(
    customer_id: Annotated[str, Depends(customer_key)], session: SessionDep, settings: SettingsDep
) -> Customer:
    """The customer named in X-Customer-Id (401 if none), charged one call of their plan (429 when used up)."""
    if not CUSTOMER_ID.match(customer_id) or int(customer_id) > MAX_ID:
        raise unknown_customer()
    customer = session.get(Customer, int(customer_id))
    if customer is None:
        raise unknown_customer()
    # Exercise 6.2: Charge the customer one call per request; refuse with 429 once the quota is used up
    log.debug("current_customer: customer %s, call %s of %s", customer.id, customer.calls, settings.call_quota)
    return customer


CurrentCustomer = Annotated[Customer, Depends(current_customer)]

# --- the order in the path, checked step by step -----------------------------------------------

OrderId = Annotated[int, Path(ge=1, le=MAX_ID, description="The order's id")]


def valid_order(order_id: OrderId, session: SessionDep) -> Order:
    """The order named in the path; OrderNotFound (404) if there is none."""
    # Exercise 6.1: Load the order, or raise OrderNotFound (404) when there is no such order
    order = session.get(Order, order_id)  # None when there is no such order
    log.debug("valid_order: order %s exists", order_id)
    return order


ValidOrder = Annotated[Order, Depends(valid_order)]


def owned_order(order: ValidOrder, customer: CurrentCustomer) -> Order:
    """The order in the path, if it belongs to the caller: 403 if it is another customer's."""
    # Exercise 6.1: Refuse with 403 an order that belongs to another customer
    log.debug("owned_order: customer %s owns order %s", customer.id, order.id)
    return order


OwnedOrder = Annotated[Order, Depends(owned_order)]


class RequireStatus:
    """A guard configured per route: the caller's order must have one of the given statuses (409 otherwise).

    Each instance is a dependency of its own: ``Depends(RequireStatus("open"))`` calls the
    instance, and ``__call__`` declares what it needs, like any dependency function.
    """

    # Exercise 6.4: Keep the statuses each guard allows; refuse with WrongStatus (409) any other status
    def __init__(self, *allowed: OrderStatus) -> None:
        pass

    def __call__(self, order: OwnedOrder) -> Order:
        return order  # every status passes, for now

    def __repr__(self) -> str:
        return f"RequireStatus({', '.join(map(repr, getattr(self, 'allowed', ())))})"


OpenOrder = Annotated[Order, Depends(RequireStatus("open"))]
PaidOrder = Annotated[Order, Depends(RequireStatus("paid"))]

# --- mail, sent once the request has succeeded -----------------------------------------------------


def get_outbox(engine: EngineDep, directory: OutboxDirDep) -> Iterator[Outbox]:
    """An outbox for the request's mail: delivered if the request succeeds, after its transaction is committed."""
    # Exercise 6.3: Deliver the outbox when the request succeeded, after the commit; deliver nothing if it failed
    yield Outbox()  # collected, never delivered


# Exercise 6.3: Choose the scope: the outbox must exit after the session has committed
OutboxDep = Annotated[Outbox, Depends(get_outbox, scope="function")]

# --- the whole app ------------------------------------------------------------------------------


def refuse_writes_in_maintenance(request: Request, settings: SettingsDep) -> None:
    """An app-level dependency: with SHOP_READ_ONLY, every request that would change something gets 503."""
    if settings.read_only and request.method not in SAFE_METHODS:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "The shop is read-only for maintenance; try again later",
            headers={"Retry-After": "600"},
        )
