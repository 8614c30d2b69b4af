"""Routes: ``/auth`` signs users up, in and out; ``/users/me`` is the signed-in user's own account.

Routes are plain ``def`` functions: hashing a password keeps a CPU busy for a moment, and
FastAPI runs ``def`` routes in a thread pool, so the event loop keeps serving other requests.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from . import service
from .cookies import clear_session_cookies, set_session_cookies
from .dependencies import CurrentUser, PasswordHashDep, SessionDep, SettingsDep
from .exceptions import error_responses
from .models import User
from .schemas import Token, UserCreate, UserRead, UserUpdate
from .tokens import create_access_token

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])

# The OAuth2 password flow: a form with `username` (here, the email) and `password`.
LoginForm = Annotated[OAuth2PasswordRequestForm, Depends()]
UNAUTHORIZED = error_responses(status.HTTP_401_UNAUTHORIZED)
SIGNED_IN_CHANGE = error_responses(status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN)


@auth_router.post(
    "/register",
    summary="Register an account",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=error_responses(status.HTTP_409_CONFLICT),
)
def register(data: UserCreate, session: SessionDep, password_hash: PasswordHashDep) -> User:
    """Create an account with the role "user". The answer never holds the password or its hash."""
    return service.register_user(session, password_hash, data)


@auth_router.post("/token", summary="Log in: a bearer token", response_model=Token, responses=UNAUTHORIZED)
def issue_token(form: LoginForm, session: SessionDep, password_hash: PasswordHashDep, settings: SettingsDep) -> Token:
    """Log in with the OAuth2 password flow: the email as `username`, and the password. For API clients."""
    user = service.authenticate(session, password_hash, form.username, form.password)
    assert user.id is not None  # a stored user has an id
    return Token(access_token=create_access_token(user.id, settings))


@auth_router.post(
    "/login",
    summary="Log in: session cookies",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=UNAUTHORIZED,
)
def log_in_with_cookie(
    form: LoginForm, session: SessionDep, password_hash: PasswordHashDep, settings: SettingsDep, response: Response
) -> None:
    """Log in for a browser: the same form, and the token comes back in cookies instead of the body."""
    user = service.authenticate(session, password_hash, form.username, form.password)
    assert user.id is not None
    set_session_cookies(response, create_access_token(user.id, settings), settings.access_token_seconds)


@auth_router.post(
    "/logout",
    summary="Log out: drop the cookies",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=SIGNED_IN_CHANGE,
)
def log_out(user: CurrentUser, response: Response) -> None:
    """Drop the session cookies. The token itself stays valid until it expires: a JWT cannot be recalled."""
    clear_session_cookies(response)


@users_router.get("/me", summary="Your account", response_model=UserRead, responses=UNAUTHORIZED)
def read_me(user: CurrentUser) -> User:
    """The signed-in user."""
    return user


@users_router.patch("/me", summary="Change your name", response_model=UserRead, responses=SIGNED_IN_CHANGE)
def update_me(changes: UserUpdate, user: CurrentUser, session: SessionDep) -> User:
    """Change your own name. Nothing else about an account is yours to change."""
    return service.update_user(session, user, changes)


@users_router.delete(
    "/me",
    summary="Delete your account",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=SIGNED_IN_CHANGE,
)
def delete_me(user: CurrentUser, session: SessionDep, response: Response) -> None:
    """Delete your account. Tokens issued before are refused from now on: they name no user."""
    service.delete_user(session, user)
    clear_session_cookies(response)
