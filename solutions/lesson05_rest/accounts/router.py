"""Routes for accounts, mounted under ``/api/v1/accounts``."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from ..dependencies import PageDep, SessionDep
from ..errors import error_responses
from ..pagination import Page
from ..schemas import MAX_ID
from . import service
from .models import Account
from .schemas import AccountCreate, AccountRead, AccountUpdate

router = APIRouter(prefix="/accounts", tags=["accounts"])
AccountId = Annotated[int, Path(ge=1, le=MAX_ID, description="The account's id")]


@router.get("", response_model=Page[AccountRead])
def list_accounts(session: SessionDep, page: PageDep) -> Page[Account]:
    """Accounts in id order, one page at a time."""
    return service.list_accounts(session, page)


@router.post(
    "",
    response_model=AccountRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(status.HTTP_409_CONFLICT),
)
def create_account(data: AccountCreate, session: SessionDep, request: Request, response: Response) -> Account:
    """Open an account. The `Location` header of the answer is the new account's URL."""
    # BEGIN SOLUTION 5.1: Answer 201 with the new account and a Location header holding its URL
    account = service.create_account(session, data)
    response.headers["Location"] = str(request.url_for("get_account", account_id=account.id))
    return account
    # END SOLUTION


# BEGIN SOLUTION 5.4: Answer HEAD like GET, headers only: 200 for an account that exists, 404 for one that does not
@router.head("/{account_id}", response_model=AccountRead, responses=error_responses(status.HTTP_404_NOT_FOUND))
# STUB
# END SOLUTION
@router.get("/{account_id}", response_model=AccountRead, responses=error_responses(status.HTTP_404_NOT_FOUND))
def get_account(account_id: AccountId, session: SessionDep) -> Account:
    """One account."""
    return service.get_account(session, account_id)


@router.put(
    "/{account_id}",
    response_model=AccountRead,
    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT),
)
def replace_account(account_id: AccountId, data: AccountCreate, session: SessionDep) -> Account:
    """Replace an account with the one sent, every field. PUT never creates: a missing account is a 404."""
    return service.replace_account(session, account_id, data)


@router.patch(
    "/{account_id}",
    response_model=AccountRead,
    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT),
)
def update_account(account_id: AccountId, changes: AccountUpdate, session: SessionDep) -> Account:
    """Change the fields sent, and only those."""
    return service.update_account(session, account_id, changes)


@router.delete(
    "/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT),
)
def delete_account(account_id: AccountId, session: SessionDep) -> None:
    """Close an account that has no operations."""
    service.delete_account(session, account_id)
