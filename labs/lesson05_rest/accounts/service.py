"""What the API does with accounts, in terms of the database. Routes stay thin.

Services add, change and flush, but never commit: the request's session (``get_session``)
commits when the route returns, so one request is one transaction.
"""

from sqlmodel import Session, select

from ..operations.models import Operation
from ..pagination import Page, PageParams, paginate
from .exceptions import AccountHasOperations, AccountNotFound
from .models import Account
from .schemas import AccountCreate, AccountUpdate


def list_accounts(session: Session, page: PageParams) -> Page[Account]:
    return paginate(session, select(Account).order_by(Account.id), page)


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise AccountNotFound(account_id)
    return account


def save(session: Session, account: Account) -> Account:
    """Send the account to the database now: a new one gets its id, a number already taken raises ``IntegrityError``."""
    session.add(account)
    session.flush()
    return account


def create_account(session: Session, data: AccountCreate) -> Account:
    return save(session, Account.model_validate(data))


def replace_account(session: Session, account_id: int, data: AccountCreate) -> Account:
    """Replace every field of an existing account. A missing account is an error, never created."""
    # Exercise 5.1: Replace every field of an existing account; a missing one raises AccountNotFound
    raise NotImplementedError('Exercise 5.1: Replace every field of an existing account; a missing one raises AccountNotFound')


def update_account(session: Session, account_id: int, changes: AccountUpdate) -> Account:
    """Change only the fields the client sent."""
    account = get_account(session, account_id)
    account.sqlmodel_update(changes.model_dump(exclude_unset=True))
    return save(session, account)


def delete_account(session: Session, account_id: int) -> None:
    account = get_account(session, account_id)
    if session.exec(select(Operation.id).where(Operation.account_id == account_id).limit(1)).first():
        raise AccountHasOperations(account_id)
    session.delete(account)
    session.flush()
