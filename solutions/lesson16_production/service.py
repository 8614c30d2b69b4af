"""The catalogue: functions that take the request's session first.

The services add and flush, but never commit: the request's session dependency does.
Product views are counted in Redis, which every worker process shares.
"""

from collections.abc import Sequence

from redis.asyncio import Redis
from sqlmodel import Session, col, select

from .exceptions import NotFound
from .models import Product
from .schemas import ProductCreate, ProductRead


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"Product {product_id} not found")
    return product


def list_products(session: Session) -> Sequence[Product]:
    return session.exec(select(Product).order_by(col(Product.id))).all()


def create_product(session: Session, data: ProductCreate) -> Product:
    product = Product(name=data.name, price_cents=data.price_cents)
    session.add(product)
    session.flush()
    return product


def as_read(product: Product, views: int) -> ProductRead:
    assert product.id is not None
    return ProductRead(id=product.id, name=product.name, price_cents=product.price_cents, views=views)


class ViewCounter:
    """How often each product was read: one number per product, the same for every worker."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.prefix = redis, f"{prefix}views:"

    async def add(self, product_id: int) -> int:
        """Count one more view of the product; return the total."""
        # BEGIN SOLUTION 16.3: Count in Redis, not in this process's memory
        return int(await self.redis.incr(f"{self.prefix}{product_id}"))
        # STUB
        # self.counts = getattr(self, "counts", {})
        # self.counts[product_id] = self.counts.get(product_id, 0) + 1
        # return int(self.counts[product_id])
        # END SOLUTION

    async def get(self, product_id: int) -> int:
        # BEGIN SOLUTION 16.3: Read the shared count
        return int(await self.redis.get(f"{self.prefix}{product_id}") or 0)
        # STUB
        # return int(getattr(self, "counts", {}).get(product_id, 0))
        # END SOLUTION
