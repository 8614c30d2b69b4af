"""What the API accepts and returns. No schema a client sends has a `role`: nobody picks their own."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

# Email addresses compare without regard to case, so they are stored lower-case.
Email = Annotated[EmailStr, AfterValidator(str.lower), Field(max_length=254, examples=["ada@bookly.example"])]
# Free text without NUL: PostgreSQL refuses it where SQLite stores it, so refuse it in both.
FullName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
Password = Annotated[str, Field(min_length=8, max_length=128, examples=["correct horse battery staple"])]


class UserCreate(BaseModel):
    """A registration. A `role` in the body is ignored: the model gives every new user the default role."""

    email: Email
    full_name: FullName
    password: Password


class UserRead(BaseModel):
    """A user as the API shows them: never the password, nor its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: str
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def in_utc(cls, value: datetime) -> datetime:
        """SQLite hands back times without a zone; they were stored in UTC."""
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UserUpdate(BaseModel):
    """What users may change about themselves: send only the fields to change."""

    # BEGIN SOLUTION 7.3: Users change their own name, never their role: refuse any other field
    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None
    # STUB
    # full_name: FullName | None = None
    # role: str | None = None
    # END SOLUTION

    @field_validator("full_name")
    @classmethod
    def not_null(cls, value: str | None) -> str:
        """Leaving the name out keeps it; sending null would erase it, so it is refused."""
        if value is None:
            raise ValueError("send a name, or leave the field out")
        return value


class Token(BaseModel):
    """The answer of the OAuth2 password flow, as OAuth2 clients (and Swagger UI) expect it."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
