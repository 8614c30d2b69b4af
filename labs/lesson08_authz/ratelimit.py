"""Failed logins, counted per email address in Redis: past the limit, login answers 429 until the window ends.

Counting by address, registered or not, slows down password guessing against one account, and
answers an unknown address exactly as a known one. The count lives in Redis, so every worker and
instance of the app shares it, and it expires with its window.
"""

import math

from redis import Redis

from .config import Settings
from .exceptions import TooManyAttempts


def failures_key(settings: Settings, email: str) -> str:
    return f"{settings.redis_prefix}login-failures:{email.lower()}"


def check_login_allowed(redis: Redis, settings: Settings, email: str) -> None:
    """Raise TooManyAttempts, with the seconds left in the window, once ``email`` has used up its failed logins."""
    # Exercise 8.5: Refuse a login once the address has had too many failures in the current window
    pass


def count_failed_login(redis: Redis, settings: Settings, email: str) -> None:
    """Count one failed login for ``email``; the first failure opens a window of ``login_window_seconds``."""
    # Exercise 8.5: Count a failed login; the first failure of a window sets when the count expires
    pass
