"""What can go wrong with an operation, in the domain's words."""

from fastapi.exceptions import RequestValidationError

from ..exceptions import NotFound


class OperationNotFound(NotFound):
    def __init__(self, operation_id: int) -> None:
        super().__init__(f"Operation {operation_id} not found")


def unknown_account(account_id: int) -> RequestValidationError:
    """An operation for an account that does not exist is invalid input: a 422 that points at the field."""
    return RequestValidationError(
        [
            {
                "type": "unknown_account",
                "loc": ("body", "account_id"),
                "msg": f"Account {account_id} does not exist",
                "input": account_id,
            }
        ]
    )
