"""Dependencies: the app's resources, one database session per request, and who is calling with which rights.

The status codes keep two questions apart:
- 401 Unauthorized: *who are you?* No token, or one that is forged, expired or revoked. The
  answer carries ``WWW-Authenticate: Bearer``: sign in (again).
- 403 Forbidden: *I know who you are, and you may not.* A scope, a role or a verified address is
  missing; signing in again changes nothing.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from redis import Redis
from sqlalchemy import Engine
from sqlmodel import Session

from . import revocation
from .config import Settings
from .exceptions import BEARER
from .mail import Outbox
from .models import User
from .tokens import INVALID, SCOPES, Claims, decode_token


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def get_outbox(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.outbox
    return outbox


def get_session(request: Request) -> Iterator[Session]:
    """One session, and one transaction, per request: commit if the route succeeded, roll back if it raised."""
    engine: Engine = request.app.state.engine
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
# scope="function": the transaction ends before the response is sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# Reads "Authorization: Bearer <token>"; without one it answers 401 itself. The scopes document the API.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", scopes=SCOPES)
TokenDep = Annotated[str, Depends(oauth2_scheme)]


def get_access_claims(token: TokenDep, redis: RedisDep, settings: SettingsDep) -> Claims:
    """The claims of a valid access token that has not been revoked; 401 otherwise."""
    claims = decode_token(settings, token, "access")
    if revocation.is_revoked(redis, settings, claims.jti):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "This token has been revoked", headers=BEARER)
    return claims


AccessClaims = Annotated[Claims, Depends(get_access_claims)]


def get_current_user(security_scopes: SecurityScopes, claims: AccessClaims, session: SessionDep) -> User:
    """The caller, whose token carries every scope the route (and the dependencies in between) asked for.

    ``security_scopes.scopes`` collects the scopes of every ``Security(...)`` on the way from the route here.
    """
    user = session.get(User, claims.user_id)
    if user is None:  # deleted since the token was issued
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, INVALID, headers=BEARER)
    # Exercise 8.3: Answer 403, naming the scopes needed, unless the token carries every one of them
    pass
    return user


def get_verified_user(user: Annotated[User, Security(get_current_user)]) -> User:
    """The caller, who has verified their email address; 403 otherwise."""
    # Exercise 8.3: Answer 403 to a user who has not verified their email address
    pass
    return user


def require_admin(user: Annotated[User, Security(get_current_user)]) -> User:
    """The caller, whose role is admin; 403 otherwise."""
    # Exercise 8.3: Answer 403 to anyone whose role is not admin
    pass
    return user


# Who may do what, one alias per kind of caller: routes declare their caller as a parameter.
CurrentUser = Annotated[User, Security(get_current_user, scopes=["profile"])]
BookWriter = Annotated[User, Security(get_verified_user, scopes=["books:write"])]
BookAdmin = Annotated[User, Security(require_admin, scopes=["books:write"])]
Admin = Annotated[User, Security(require_admin)]
