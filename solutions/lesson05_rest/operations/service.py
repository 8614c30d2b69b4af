"""What the API does with operations, in terms of the database. Like every service, it flushes, never commits."""

from sqlmodel import Session, select

from ..accounts.models import Account
from ..pagination import Page, PageParams, paginate
from .exceptions import OperationNotFound, UnknownAccount
from .models import Operation
from .schemas import OperationCreate, OperationUpdate, Side


def list_operations(
    session: Session, page: PageParams, *, account_id: int | None = None, side: Side | None = None
) -> Page[Operation]:
    """Operations in id order, optionally of one account or one side."""
    statement = select(Operation)
    if account_id is not None:
        statement = statement.where(Operation.account_id == account_id)
    if side is not None:
        statement = statement.where(Operation.side == side)
    return paginate(session, statement.order_by(Operation.id), page)


def get_operation(session: Session, operation_id: int) -> Operation:
    operation = session.get(Operation, operation_id)
    if operation is None:
        raise OperationNotFound(operation_id)
    return operation


def create_operation(session: Session, data: OperationCreate) -> Operation:
    if session.get(Account, data.account_id) is None:
        raise UnknownAccount(data.account_id)
    operation = Operation.model_validate(data)
    session.add(operation)
    session.flush()
    return operation


def update_operation(session: Session, operation_id: int, changes: OperationUpdate) -> Operation:
    """Change only the fields the client sent."""
    operation = get_operation(session, operation_id)
    operation.sqlmodel_update(changes.model_dump(exclude_unset=True))
    session.flush()
    return operation


def delete_operation(session: Session, operation_id: int) -> None:
    session.delete(get_operation(session, operation_id))
    session.flush()
