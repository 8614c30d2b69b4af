"""Routes for users: a query parameter, a header, and a path parameter."""

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status

from .dependencies import StoreDep
from .schemas import Role, User

router = APIRouter(prefix="/users", tags=["users"])


@router.get("")
async def list_users(store: StoreDep, role: Role | None = None) -> list[User]:
    """All users, or only those with the given role."""
    return [user for user in store.users.values() if role is None or user.role == role]


# Declared before /{user_id}: routes are tried in order, and "me" is not an int.
@router.get("/me", responses={404: {"description": "No user with this id"}})
async def read_me(store: StoreDep, x_user_id: Annotated[int, Header()]) -> User:
    """The user named by the ``X-User-Id`` header."""
    user = store.users.get(x_user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"User {x_user_id} not found")
    return user


@router.get("/{user_id}", responses={404: {"description": "No user with this id"}})
async def get_user(user_id: int, store: StoreDep) -> User:
    """One user by id."""
    # BEGIN SOLUTION 1.1: Return the user, or 404 with a detail naming the missing id
    user = store.users.get(user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"User {user_id} not found")
    return user
    # END SOLUTION
