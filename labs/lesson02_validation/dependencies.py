"""Dependencies shared by the routers."""

from typing import Annotated

from fastapi import Depends, Path, Request

from .config import Settings
from .exceptions import OperationNotFound
from .models import OperationRecord
from .store import OperationStore


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> OperationStore:
    return request.app.state.store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[OperationStore, Depends(get_store)]


async def valid_operation(operation_id: Annotated[int, Path(ge=1)], store: StoreDep) -> OperationRecord:
    """The operation named in the path, or 404."""
    record = store.get(operation_id)
    if record is None:
        raise OperationNotFound(operation_id)
    return record


ValidOperation = Annotated[OperationRecord, Depends(valid_operation)]
