"""Routes for tags."""

from collections.abc import Sequence

from fastapi import APIRouter

from .dependencies import BookServiceDep

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("")
def list_tags(service: BookServiceDep) -> Sequence[str]:
    """The names of all tags, in alphabetical order."""
    return service.list_tags()
