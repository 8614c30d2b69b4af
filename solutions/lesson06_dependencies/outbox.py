"""Mail a request wants to send, kept until the request's transaction is committed.

The outbox holds only which orders to write about. ``deliver`` renders each message from
what the database holds at that moment, in a session of its own, as a mail worker in another
process would. So a receipt delivered too early reports the order as it was before the payment.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from .models import Customer, Order
from .schemas import Receipt


@dataclass
class Outbox:
    """The receipts one request asks for, by order id."""

    order_ids: list[int] = field(default_factory=list)

    def add_receipt(self, order_id: int) -> None:
        self.order_ids.append(order_id)


def render_receipt(order: Order, customer: Customer) -> Receipt:
    return Receipt.model_validate(
        {
            "to": customer.email,
            "subject": f"Receipt for order {order.id}",
            "order_id": order.id,
            "status": order.status,
            "total_cents": order.total_cents,
        }
    )


def deliver(outbox: Outbox, engine: Engine, directory: Path) -> int:
    """Write one file per receipt into ``directory``, ``receipt-order-<id>.json``; return how many."""
    delivered = 0
    with Session(engine) as session:
        for order_id in outbox.order_ids:
            order = session.get(Order, order_id)
            customer = session.get(Customer, order.customer_id) if order else None
            if order is None or customer is None:
                continue
            _write_atomically(directory / f"receipt-order-{order_id}.json", render_receipt(order, customer))
            delivered += 1
    outbox.order_ids.clear()
    return delivered


def _write_atomically(path: Path, receipt: Receipt) -> None:
    """Whoever reads the directory sees a whole file or none: write beside it, then rename."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(receipt.model_dump(), indent=1), encoding="utf-8")
    os.replace(partial, path)
