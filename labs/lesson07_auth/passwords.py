"""Password hashing with Argon2, as pwdlib recommends.

``PasswordHash.recommended()`` is Argon2id with its library defaults. The app keeps one
``PasswordHash`` per instance (``app.state.password_hash``), made from its settings.
"""

from pathlib import Path

from pwdlib import PasswordHash
from pwdlib.hashers import HasherProtocol
from pwdlib.hashers.argon2 import Argon2Hasher

# A hash of a password nobody has, made with the recommended parameters. Verifying against it
# when the email is unknown makes a failed login do the same work for an unknown address as
# for a known one, so the time taken reveals no accounts.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$NcMvUhBXSW8xgGbnVkCjlw$QQPL4yiNAzbnFdmNR/9L+nOyM7H/XSxm0+OnIF1RmQo"


def fast_argon2() -> Argon2Hasher:
    """Tests only (BOOKLY_FAST_PASSWORD_HASH): one pass over 1 MiB instead of three over 64 MiB.

    A test suite then does not spend its time hashing. Still Argon2; production refuses it (config.py).
    """
    return Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1)


class RecordedHasher:
    """A hasher that also writes a line to a log for each hash ("hash") and verification ("verify").

    A window on the work a request does, as a metrics counter would be: the lesson and the
    checks read it to see that every failed login costs one verification. It never logs a password.
    """

    def __init__(self, hasher: HasherProtocol, log: Path) -> None:
        self.hasher, self.log = hasher, log

    def identify(self, hash: str | bytes) -> bool:
        return self.hasher.identify(hash)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        hashed = self.hasher.hash(password, salt=salt)
        self._record("hash")
        return hashed

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        verified = self.hasher.verify(password, hash)
        self._record("verify")
        return verified

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return self.hasher.check_needs_rehash(hash)

    def _record(self, operation: str) -> None:
        with self.log.open("a", encoding="utf-8") as log:
            log.write(operation + "\n")


def make_password_hash(*, fast: bool = False, log: Path | None = None) -> PasswordHash:
    """pwdlib's recommended ``PasswordHash`` (Argon2id), or a cheap Argon2 for tests; logged to ``log`` if given."""
    password_hash = PasswordHash((fast_argon2(),)) if fast else PasswordHash.recommended()
    if log is None:
        return password_hash
    return PasswordHash([RecordedHasher(hasher, log) for hasher in password_hash.hashers])  # type: ignore[misc]  # identify is a classmethod in the protocol
