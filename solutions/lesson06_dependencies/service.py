"""What the shop does with orders: functions that take the request's session first.

They add, change and flush, but never commit: the request's session dependency ends the
transaction, so one request is one transaction. Who may do what is decided before they run,
by the dependencies.
"""

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from .exceptions import InsufficientBalance, OrderNotFound, TooManyLines
from .models import Customer, Order, OrderLine
from .outbox import Outbox
from .schemas import MAX_LINES, PRICES, LineCreate, OrderCreate


def get_order(session: Session, order_id: int) -> Order:
    """One order; OrderNotFound if there is none with this id."""
    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def list_orders(session: Session, customer: Customer) -> Sequence[Order]:
    """The customer's orders in id order, with their lines."""
    statement = select(Order).where(Order.customer_id == customer.id).options(selectinload(Order.lines))
    return session.exec(statement.order_by(col(Order.id))).all()


def _line(data: LineCreate) -> OrderLine:
    return OrderLine(product=data.product, quantity=data.quantity, unit_price_cents=PRICES[data.product])


def create_order(session: Session, customer: Customer, data: OrderCreate) -> Order:
    lines = [_line(line) for line in data.lines]
    order = Order(
        customer_id=customer.id, lines=lines, total_cents=sum(line.quantity * line.unit_price_cents for line in lines)
    )
    session.add(order)
    session.flush()
    return order


def add_line(session: Session, order: Order, data: LineCreate) -> Order:
    """Add a line to the order; TooManyLines beyond MAX_LINES."""
    if len(order.lines) >= MAX_LINES:
        raise TooManyLines(order.id or 0)
    line = _line(data)
    order.lines.append(line)
    order.total_cents += line.quantity * line.unit_price_cents
    session.flush()
    return order


def pay_order(session: Session, order: Order, customer: Customer, outbox: Outbox) -> Order:
    """Pay the order from the customer's balance and queue its receipt; InsufficientBalance if it falls short.

    The database itself refuses a negative balance, so the flush is the reliable check. The receipt is
    queued first: the outbox delivers it only if the whole request succeeds.
    """
    balance, total = customer.balance_cents, order.total_cents
    customer.balance_cents -= total
    order.status = "paid"
    outbox.add_receipt(order.id or 0)
    try:
        session.flush()
    except IntegrityError:
        raise InsufficientBalance(balance, total) from None  # the session now needs a rollback: read nothing
    return order


def cancel_order(session: Session, order: Order) -> Order:
    order.status = "cancelled"
    session.flush()
    return order
