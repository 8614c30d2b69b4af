"""A sales-report client from another team: synchronous, and slow. Do not change it; call it well.

It stands for any blocking library: ``requests``, a synchronous database driver, a big
file read, a CPU-heavy computation. It holds the thread that calls it for ``seconds``.
"""

import time


def fetch_sales_report(seconds: float) -> dict[str, int]:
    """The sales of the day, after ``seconds`` of blocking work."""
    time.sleep(seconds)
    return {"products": 4, "total_cents": 19_100}
