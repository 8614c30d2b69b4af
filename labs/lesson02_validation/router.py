"""Routes for operations. Each one declares what it returns, and that is all a client sees."""

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import ValidationError

from .dependencies import StoreDep, ValidOperation
from .exceptions import invalid_body
from .schemas import InstrumentType, OperationCreate, OperationRead, OperationUpdate, Side

router = APIRouter(prefix="/operations", tags=["operations"])
NOT_FOUND = {status.HTTP_404_NOT_FOUND: {"description": "No operation with this id"}}


@router.get("")
async def list_operations(
    store: StoreDep,
    side: Side | None = None,
    instrument_type: InstrumentType | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OperationRead]:
    """Operations in id order, one page at a time, optionally of one side or instrument type."""
    return store.list(side=side, instrument_type=instrument_type, limit=limit, offset=offset)


@router.get("/{operation_id}", responses=NOT_FOUND)
async def get_operation(operation: ValidOperation) -> OperationRead:
    """One operation by id."""
    return operation


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_operation(data: OperationCreate, store: StoreDep) -> OperationRead:
    """Record an operation; the server assigns its id."""
    return store.add(data)


@router.patch("/{operation_id}", responses=NOT_FOUND)
async def update_operation(operation: ValidOperation, changes: OperationUpdate, store: StoreDep) -> OperationRead:
    """Change some fields of an operation; the result must still be a valid operation."""
    try:
        return store.update(operation, changes)
    except ValidationError as error:
        raise invalid_body(error) from None
