"""What can go wrong with an operation, in the domain's words."""

from fastapi import status

from ..exceptions import DomainError, NotFound


class OperationNotFound(NotFound):
    def __init__(self, operation_id: int) -> None:
        super().__init__(f"Operation {operation_id} not found")


class UnknownAccount(DomainError):
    """An operation for an account that does not exist: the body is invalid (422), the path is fine."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT

    def __init__(self, account_id: int) -> None:
        super().__init__(f"Account {account_id} does not exist")
