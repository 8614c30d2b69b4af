"""What the API accepts and returns."""

from typing import Annotated

from pydantic import BaseModel, EmailStr, Field, StringConstraints

# Free text without NUL: PostgreSQL refuses it where SQLite stores it, so refuse it in both.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128, pattern=r"^[^\x00]*$")]
# A token as a client sends it back: long enough for ours, short enough to refuse junk early.
TokenText = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class UserCreate(BaseModel):
    email: EmailStr = Field(max_length=254)
    full_name: Text = Field(min_length=1, max_length=100)
    password: Password


class UserRead(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    is_verified: bool


class TokenPair(BaseModel):
    """What login and refresh return: OAuth2's token response, with the refresh token."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the access token lives")


class RefreshRequest(BaseModel):
    refresh_token: TokenText


class EmailLink(BaseModel):
    """The token of a link sent by mail."""

    token: TokenText


class PasswordResetRequest(BaseModel):
    email: EmailStr = Field(max_length=254)


class PasswordReset(BaseModel):
    token: TokenText
    new_password: Password


class Message(BaseModel):
    detail: str


class BookCreate(BaseModel):
    title: Text = Field(min_length=1, max_length=200)
    author: Text = Field(min_length=1, max_length=120)


class BookRead(BaseModel):
    id: int
    title: str
    author: str
    added_by: int | None


class RevocationRead(BaseModel):
    jti: str
    expires_in: float = Field(description="Seconds until the blocklist forgets this token; -1: never")


class ProviderIdentity(BaseModel):
    """Who an identity provider's token says the caller is."""

    subject: str
    email: str | None
    roles: list[str]
