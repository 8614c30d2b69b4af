"""Health probes: is the process alive, and is it ready to serve?

- **Liveness** (``/health/live``): the process answers. Nothing else is checked: an orchestrator
  restarts a container whose liveness fails, and restarting every API container because the
  database is down helps nobody.
- **Readiness** (``/health/ready``): the process can do its job now, so its dependencies answer.
  A load balancer sends no traffic to an instance that is not ready, and tries again later.
"""

import asyncio
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from .database import ping_database

OK = "ok"


async def probe(check: Callable[[], Awaitable[object]], seconds: float) -> str:
    """``"ok"``, or what went wrong: an error, or no answer within ``seconds``."""
    try:
        await asyncio.wait_for(check(), seconds)
    except TimeoutError:
        return f"error: no answer within {seconds:g} s"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return OK


async def readiness(engine: Engine, redis: Redis, seconds: float) -> dict[str, str]:
    """Each dependency → ``"ok"`` or its error. Both are asked at once, each for at most ``seconds``."""
    # Exercise 16.2: Ask the database and Redis, each with a time limit, and report both
    return {}
