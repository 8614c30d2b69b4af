"""The attempts of each report's task, recorded by the worker in Redis and read by the API.

The worker writes what only it sees: when each attempt started and how it ended. The
keys carry the run's prefix and the task's id, and expire after a day.
"""

import json
import time
from typing import Any

from redis import Redis

from course.resources import get_resources

KEEP_SECONDS = 24 * 3600


class Journal:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def _key(self, task_id: str) -> str:
        return f"{get_resources().key_prefix}reports:attempts:{task_id}"

    def started(self, task_id: str, number: int) -> None:
        key = self._key(task_id)
        self.redis.rpush(key, json.dumps({"number": number, "started_at": time.time(), "error": None}))
        self.redis.expire(key, KEEP_SECONDS)

    def ended(self, task_id: str, error: BaseException) -> None:
        """Write why the latest attempt of the task failed."""
        key = self._key(task_id)
        latest = self.redis.lindex(key, -1)
        if latest is not None:
            self.redis.lset(key, -1, json.dumps({**json.loads(latest), "error": str(error) or type(error).__name__}))

    def attempts(self, task_id: str) -> list[dict[str, Any]]:
        return [json.loads(item) for item in self.redis.lrange(self._key(task_id), 0, -1)]
