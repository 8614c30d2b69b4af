"""The sales warehouse a report reads, one day at a time: a stand-in for a real data source.

It is slow on purpose (``REPORTS_DAY_SECONDS`` per day), may be down for a report's first
attempts (``REPORTS_WAREHOUSE_OUTAGE``), and holds no data before ``REPORTS_DATA_SINCE``.
Its sales figures are made up, but the same for a day every time, so a report built twice
is the same report.
"""

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


class ReportError(Exception):
    """Why a report could not be built, in words a client may read.

    The message is the only argument, so Celery can store the exception in the result
    backend and rebuild it, unchanged, in the API.
    """


class WarehouseUnavailable(ReportError):
    """The warehouse did not answer. Trying again later may work: retry."""


class NoSalesData(ReportError):
    """The warehouse has no data for a day. Trying again will not help: fail."""


@dataclass(frozen=True)
class DaySales:
    day: date
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class Warehouse:
    day_seconds: float
    outage: int
    data_since: date

    def connect(self, attempt: int) -> None:
        """Open a connection for a report's ``attempt`` (0 for the first); refused during an outage."""
        if attempt < self.outage:
            raise WarehouseUnavailable("The warehouse is unavailable")

    def sales_on(self, day: date) -> DaySales:
        time.sleep(self.day_seconds)
        if day < self.data_since:
            raise NoSalesData(f"No sales data before {self.data_since.isoformat()}")
        seed = day.toordinal()
        orders = 20 + seed * 7 % 31
        return DaySales(day, orders, Decimal(orders * (900 + seed * 13 % 400)) / 100)
