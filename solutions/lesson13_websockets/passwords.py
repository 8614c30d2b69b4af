"""Password hashing with Argon2, as pwdlib recommends (lesson 07 explains it)."""

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# A hash of a password nobody has: an unknown username costs a verification too, so the time
# a failed login takes reveals no accounts.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$NcMvUhBXSW8xgGbnVkCjlw$QQPL4yiNAzbnFdmNR/9L+nOyM7H/XSxm0+OnIF1RmQo"


def make_password_hash(*, fast: bool = False) -> PasswordHash:
    """pwdlib's recommended ``PasswordHash`` (Argon2id), or a cheap Argon2 for tests (CHAT_FAST_PASSWORD_HASH)."""
    if fast:
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash.recommended()
