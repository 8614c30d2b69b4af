"""Password hashing with Argon2, as pwdlib recommends, or a cheap Argon2 for test suites.

The recommended cost (three passes over 64 MiB) is about a tenth of a second of CPU per login,
on purpose. A test suite that logs in hundreds of times sets ``BOOKLY_FAST_PASSWORD_HASH``
(production refuses it, config.py) and hashes with one pass over 1 MiB: still Argon2id.
"""

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from .config import Settings

RECOMMENDED = PasswordHash.recommended()
FAST = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))

# Hashes of a password nobody has, at each cost. Verifying against one when the email is unknown makes
# a failed login take as long for an unknown address as for a known one, so timing reveals no accounts.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$1CwA3nQl8kbGNyUB+xfXBw$cvsdrVzv6AemNao6jMUVOcLZUDnK/BgMeOJeEHPCuLQ"
FAST_DUMMY_HASH = "$argon2id$v=19$m=1024,t=1,p=1$H2t6o0aggs/+hk/ZXzUAng$d3+HLtnkmqhAyvG4JtbeTvoXu/LnMpHHdBxs4NwaIMU"


def _hashing(settings: Settings) -> tuple[PasswordHash, str]:
    """The hasher the settings ask for, and its hash of a password nobody has."""
    return (FAST, FAST_DUMMY_HASH) if settings.fast_password_hash else (RECOMMENDED, DUMMY_HASH)


def hash_password(settings: Settings, password: str) -> str:
    return _hashing(settings)[0].hash(password)


def verify_password(settings: Settings, password: str, hashed: str | None) -> bool:
    """True if ``password`` matches ``hashed``; with no hash, the same work and False."""
    password_hash, dummy = _hashing(settings)
    if hashed is None:
        password_hash.verify(password, dummy)
        return False
    return password_hash.verify(password, hashed)
