"""Routes for tags."""

from collections.abc import Sequence

from fastapi import APIRouter

from . import service
from .dependencies import SessionDep

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("")
def list_tags(session: SessionDep) -> Sequence[str]:
    """The names of all tags, in alphabetical order."""
    return service.list_tags(session)
