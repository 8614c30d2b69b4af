"""The caller's own account."""

from fastapi import APIRouter

from ..dependencies import CurrentUser
from ..exceptions import error_responses
from ..models import User
from ..schemas import UserRead

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserRead, responses=error_responses(401, 403))
def read_me(user: CurrentUser) -> User:
    """Your account. Needs the `profile` scope."""
    return user
