"""Tokens for links sent by mail (verify an address, reset a password), signed with itsdangerous.

A token is the payload, the time it was signed and a signature over both: anyone can read it, and
no one without the secret key can change it or make one. The *salt* names the purpose, so a token
made for one purpose never passes for another; ``max_age`` makes it expire.
"""

from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer

from .config import Settings
from .exceptions import InvalidLink

Purpose = Literal["verify-email", "reset-password"]


def _serializer(settings: Settings, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=f"bookly-{purpose}")


def make_email_token(settings: Settings, purpose: Purpose, payload: dict[str, Any]) -> str:
    return _serializer(settings, purpose).dumps(payload)


def read_email_token(settings: Settings, purpose: Purpose, token: str) -> dict[str, Any]:
    """The payload of a token made for ``purpose`` and younger than ``email_token_seconds``; else InvalidLink."""
    # Exercise 8.4: Read a token made for this purpose, refusing a forged, expired or misdirected one
    raise NotImplementedError('Exercise 8.4: Read a token made for this purpose, refusing a forged, expired or misdirected one')
