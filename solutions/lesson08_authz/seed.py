"""The users and books every app instance starts with.

The passwords are stored as Argon2 hashes computed once, at the recommended cost and at the
tests' cheap one (passwords.py), so that starting an app costs no hashing. In the lesson: ada is
an admin, ben a verified user, cleo has not verified her address.
"""

from sqlmodel import Session

from .config import Settings
from .models import Book, User

# email, full name, role, verified, hash of "<name>-secret-password", its cheap hash for tests
USERS = (
    (
        "ada@bookly.example",
        "Ada Lovelace",
        "admin",
        True,
        "$argon2id$v=19$m=65536,t=3,p=4$OXSp+bZ5yDyU6e2KBbZlgQ$HfsqT2UFi7sYph6SMWVWf0io0Z3W1/E4HmqkATMyhxQ",
        "$argon2id$v=19$m=1024,t=1,p=1$aDwy1j7O1rUpeYQK6ta8Yw$87nUI50cwMvNSOd2q9im/CGXgMOJSfm1ebTC3zIyEVY",
    ),
    (
        "ben@bookly.example",
        "Ben Okafor",
        "user",
        True,
        "$argon2id$v=19$m=65536,t=3,p=4$1uf0Dfb+U/vlxFN5O8c2NA$XjxHzTEdi9+0cbCJ5wGtDkjq+9DjIMqd9fbcfrKOfN4",
        "$argon2id$v=19$m=1024,t=1,p=1$yK0qN37QG/WBXNif+ajULw$M24Hooop5lzjaJGPLuIs/d66IEK2I6VCum59FQPRpJY",
    ),
    (
        "cleo@bookly.example",
        "Cleo Park",
        "user",
        False,
        "$argon2id$v=19$m=65536,t=3,p=4$60SvZyoHAwPjVuJhDv1pPQ$jYMXFKGF74milqu6slUXzYumdFK1tGH90o4u5B7SLAI",
        "$argon2id$v=19$m=1024,t=1,p=1$iBF32Nu+VhO4O0ba4LR2Vg$qwiygPhrgPD6uPseb+TVcRDxanXSf/5yGSLXhw7W0Po",
    ),
)

BOOKS = (
    ("Tidy Tables", "Mara Quinn"),
    ("Async Afternoons", "Leo Park"),
    ("Schema Stories", "Ines Duarte"),
)


def add_seed(session: Session, settings: Settings) -> None:
    """Add the starting rows in a fixed order, so that ids are the same every time."""
    for email, full_name, role, verified, hashed, fast_hashed in USERS:
        stored = fast_hashed if settings.fast_password_hash else hashed
        session.add(User(email=email, full_name=full_name, role=role, is_verified=verified, hashed_password=stored))
        session.flush()
    for title, author in BOOKS:
        session.add(Book(title=title, author=author, added_by=1))
        session.flush()
