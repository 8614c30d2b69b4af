"""What can go wrong with an account, in the domain's words."""

from ..exceptions import Conflict, NotFound


class AccountNotFound(NotFound):
    def __init__(self, account_id: int) -> None:
        super().__init__(f"Account {account_id} not found")


class AccountHasOperations(Conflict):
    def __init__(self, account_id: int) -> None:
        super().__init__(f"Account {account_id} has operations; delete them first")
