"""Routes for operations, mounted under ``/api/v1/operations``."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from ..dependencies import PageDep, SessionDep
from ..errors import INVALID_OR_UNKNOWN, error_responses
from ..pagination import Page
from ..schemas import MAX_ID
from . import service
from .models import Operation
from .schemas import OperationCreate, OperationRead, OperationUpdate, Side

router = APIRouter(prefix="/operations", tags=["operations"])
OperationId = Annotated[int, Path(ge=1, le=MAX_ID, description="The operation's id")]


@router.get("", response_model=Page[OperationRead])
def list_operations(
    session: SessionDep,
    page: PageDep,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this account's")] = None,
    side: Annotated[Side | None, Query(description="Only buys or only sells")] = None,
) -> Page[Operation]:
    """Operations in id order, one page at a time, optionally of one account or one side."""
    return service.list_operations(session, page, account_id=account_id, side=side)


@router.post("", response_model=OperationRead, status_code=status.HTTP_201_CREATED, responses=INVALID_OR_UNKNOWN)
def create_operation(data: OperationCreate, session: SessionDep, request: Request, response: Response) -> Operation:
    """Record an operation. The `Location` header of the answer is its URL."""
    operation = service.create_operation(session, data)
    response.headers["Location"] = str(request.url_for("get_operation", operation_id=operation.id))
    return operation


@router.get("/{operation_id}", response_model=OperationRead, responses=error_responses(status.HTTP_404_NOT_FOUND))
def get_operation(operation_id: OperationId, session: SessionDep) -> Operation:
    """One operation."""
    return service.get_operation(session, operation_id)


@router.patch("/{operation_id}", response_model=OperationRead, responses=error_responses(status.HTTP_404_NOT_FOUND))
def update_operation(operation_id: OperationId, changes: OperationUpdate, session: SessionDep) -> Operation:
    """Correct the fields sent, and only those."""
    return service.update_operation(session, operation_id, changes)


@router.delete(
    "/{operation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(status.HTTP_404_NOT_FOUND),
)
def delete_operation(operation_id: OperationId, session: SessionDep) -> None:
    """Delete an operation."""
    service.delete_operation(session, operation_id)
