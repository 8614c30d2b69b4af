"""Password hashing with Argon2, as pwdlib recommends."""

from pwdlib import PasswordHash

password_hash = PasswordHash.recommended()

# A hash of a password nobody has. Verifying against it when the email is unknown makes a failed
# login take as long for an unknown address as for a known one, so timing reveals no accounts.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$1CwA3nQl8kbGNyUB+xfXBw$cvsdrVzv6AemNao6jMUVOcLZUDnK/BgMeOJeEHPCuLQ"


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """True if ``password`` matches ``hashed``; with no hash, the same work and False."""
    if hashed is None:
        password_hash.verify(password, DUMMY_HASH)
        return False
    return password_hash.verify(password, hashed)
