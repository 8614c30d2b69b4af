"""The tables: the roles, and the users who hold them."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# Every role there is, seeded at start-up (database.seed_roles). Lesson 08 decides what each may do.
ROLES = {
    "user": "Registers, reads the catalogue and manages their own account",
    "admin": "Manages every account",
}
DEFAULT_ROLE = "user"


class TableModel(SQLModel, registry=registry()):
    """The base of this app's tables: a registry of its own, so a fresh import defines them anew."""


def _now() -> datetime:
    return datetime.now(UTC)


class Role(TableModel, table=True):
    __tablename__ = "roles"

    name: str = Field(primary_key=True, max_length=20)
    description: str = Field(max_length=200)


class User(TableModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-case
    full_name: str = Field(max_length=100)
    hashed_password: str = Field(max_length=255)  # an Argon2 hash; the password itself is never stored
    # The default lives here, in the model: a new account is a plain user, whatever the request said.
    role: str = Field(default=DEFAULT_ROLE, foreign_key="roles.name", max_length=20)
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
