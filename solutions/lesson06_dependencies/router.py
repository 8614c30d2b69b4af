"""Routes for the caller's orders, mounted under ``/orders``.

Every route here needs a known customer: the router declares ``current_customer`` for all of
them, even a route that never asks for the customer itself. Which order, whose order and in
which status is settled by the dependencies in each signature, before the route runs.
"""

from collections.abc import Sequence

from fastapi import APIRouter, Depends, status

from . import service
from .dependencies import CurrentCustomer, OpenOrder, OutboxDep, OwnedOrder, PaidOrder, SessionDep, current_customer
from .exceptions import error_responses
from .models import Order
from .outbox import render_receipt
from .schemas import LineCreate, OrderCreate, OrderRead, Receipt
from .tracing import log

router = APIRouter(
    prefix="/orders",
    tags=["orders"],
    dependencies=[Depends(current_customer)],
    responses=error_responses(status.HTTP_401_UNAUTHORIZED, status.HTTP_429_TOO_MANY_REQUESTS),
)
ONE_ORDER = error_responses(status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND)
GUARDED = error_responses(status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT)


@router.get("", response_model=list[OrderRead])
def list_orders(customer: CurrentCustomer, session: SessionDep) -> Sequence[Order]:
    """The caller's orders, in id order."""
    return service.list_orders(session, customer)


@router.post("", response_model=OrderRead, status_code=status.HTTP_201_CREATED)
def create_order(data: OrderCreate, customer: CurrentCustomer, session: SessionDep) -> Order:
    """Place an order; prices come from the shop's list."""
    return service.create_order(session, customer, data)


@router.get("/{order_id}", response_model=OrderRead, responses=ONE_ORDER)
def get_order(order: OwnedOrder) -> Order:
    """One of the caller's orders."""
    log.debug("route get_order: order %s", order.id)
    return order


@router.post("/{order_id}/lines", response_model=OrderRead, responses=GUARDED)
def add_line(order: OpenOrder, line: LineCreate, session: SessionDep) -> Order:
    """Add a line to one of the caller's open orders."""
    return service.add_line(session, order, line)


@router.post("/{order_id}/pay", response_model=OrderRead, responses=GUARDED)
def pay_order(order: OpenOrder, customer: CurrentCustomer, session: SessionDep, outbox: OutboxDep) -> Order:
    """Pay an open order from the caller's balance; a receipt is mailed once the payment is stored."""
    log.debug("route pay_order: order %s", order.id)
    return service.pay_order(session, order, customer, outbox)


@router.post("/{order_id}/cancel", response_model=OrderRead, responses=GUARDED)
def cancel_order(order: OpenOrder, session: SessionDep) -> Order:
    """Cancel an open order."""
    return service.cancel_order(session, order)


@router.get("/{order_id}/receipt", response_model=Receipt, responses=GUARDED)
def get_receipt(order: PaidOrder, customer: CurrentCustomer) -> Receipt:
    """The receipt of a paid order, as it was mailed."""
    return render_receipt(order, customer)
