"""Sign-in sessions and accounts: register, log in, refresh, log out, verify an address, reset a password."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from .. import service
from ..dependencies import AccessClaims, OutboxDep, RedisDep, SessionDep, SettingsDep
from ..exceptions import error_responses
from ..models import User
from ..schemas import (
    EmailLink,
    Message,
    PasswordReset,
    PasswordResetRequest,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserRead,
)

router = APIRouter(prefix="/auth", tags=["auth"])
RESET_REQUESTED = "If the address has an account, a link to reset its password is on its way"


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserRead, responses=error_responses(409))
def register(data: UserCreate, session: SessionDep, outbox: OutboxDep, settings: SettingsDep) -> User:
    """Open an account. It starts unverified: a link to verify the address goes out by mail."""
    return service.register(session, outbox, settings, data)


@router.post("/token", responses=error_responses(400, 401, 429))
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> TokenPair:
    """OAuth2 password flow: `username` is the email address. `scope` asks for some scopes; none asks for all."""
    return service.login(session, redis, settings, form.username, form.password, form.scopes)


@router.post("/refresh", responses=error_responses(401))
def refresh(data: RefreshRequest, session: SessionDep, redis: RedisDep, settings: SettingsDep) -> TokenPair:
    """Trade the valid refresh token of a session for a new pair. Each refresh token works once."""
    return service.refresh(session, redis, settings, data.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=error_responses(401))
def logout(data: RefreshRequest, claims: AccessClaims, redis: RedisDep, settings: SettingsDep) -> None:
    """End this session: the access token is revoked at once, and the refresh token's family ends."""
    service.logout(redis, settings, claims, data.refresh_token)


@router.post("/verify-email", response_model=UserRead, responses=error_responses(400))
def verify_email(data: EmailLink, session: SessionDep, settings: SettingsDep) -> User:
    """Verify an address with the token of the link sent at registration."""
    return service.verify_email(session, settings, data.token)


@router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED)
def request_password_reset(
    data: PasswordResetRequest, session: SessionDep, outbox: OutboxDep, settings: SettingsDep
) -> Message:
    """Mail a link to reset the password. The answer is the same whether the address has an account or not."""
    service.request_password_reset(session, outbox, settings, data.email)
    return Message(detail=RESET_REQUESTED)


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(400),
)
def reset_password(data: PasswordReset, session: SessionDep, settings: SettingsDep) -> None:
    """Choose a new password with the token of a reset link. Each link works once."""
    service.reset_password(session, settings, data.token, data.new_password)
