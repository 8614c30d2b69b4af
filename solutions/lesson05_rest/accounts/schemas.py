"""What the API accepts for an account and what it returns."""

from typing import Annotated

from pydantic import BaseModel, Field

from ..schemas import PartialUpdate, Text

AccountNumber = Annotated[str, Field(pattern=r"^ACC-\d{4}$", examples=["ACC-1004"])]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"], description="ISO 4217 code")]


class AccountCreate(BaseModel):
    """A whole account as a client sends it, to POST a new one or to PUT a replacement."""

    number: AccountNumber
    owner: Text
    currency: Currency


class AccountRead(AccountCreate):
    id: int


class AccountUpdate(PartialUpdate):
    """The fields a PATCH may change; every one is optional."""

    number: AccountNumber | None = None
    owner: Text | None = None
    currency: Currency | None = None
