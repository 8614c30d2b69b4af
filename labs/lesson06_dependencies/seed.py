"""The shop every app instance starts with: three customers and six orders, ids 1 to 3 and 1 to 6."""

from sqlmodel import Session

from .models import Customer, Order, OrderLine
from .schemas import PRICES

# name, email, store credit in cents
CUSTOMERS = (
    ("Ana Lima", "ana@example.com", 10_000),
    ("Ben Okoro", "ben@example.com", 2_000),
    ("Chen Wu", "chen@example.com", 0),
)
# customer id, status, lines as (product, quantity)
ORDERS = (
    (1, "open", (("tea", 2), ("mug", 1))),
    (1, "paid", (("coffee", 1),)),
    (2, "open", (("grinder", 1),)),
    (2, "cancelled", (("tea", 1),)),
    (2, "open", (("mug", 1),)),
    (3, "open", (("tea", 1),)),
)


def add_seed(session: Session) -> None:
    """Add the starting rows, in a fixed order so that ids are the same every time."""
    for name, email, balance in CUSTOMERS:
        session.add(Customer(name=name, email=email, balance_cents=balance))
        session.flush()
    for customer_id, status, lines in ORDERS:
        order = Order(
            customer_id=customer_id,
            status=status,
            lines=[OrderLine(product=p, quantity=q, unit_price_cents=PRICES[p]) for p, q in lines],
            total_cents=sum(PRICES[p] * q for p, q in lines),
        )
        session.add(order)
        session.flush()
