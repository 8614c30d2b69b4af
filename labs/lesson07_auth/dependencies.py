"""Dependencies: settings, the session, the password hasher, and the current user.

``get_current_user`` finds the access token in one of two transports, checks it and loads
its user. Any failure is a 401 with ``WWW-Authenticate: Bearer``, raised before the route runs.
"""

import secrets
from collections.abc import Iterator
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer
from pwdlib import PasswordHash
from sqlalchemy import Engine
from sqlmodel import Session

from .config import Settings
from .cookies import CSRF_COOKIE, CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from .exceptions import CsrfRejected, NotAuthenticated
from .models import User
from .tokens import decode_access_token, user_id_of


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_password_hash(request: Request) -> PasswordHash:
    password_hash: PasswordHash = request.app.state.password_hash
    return password_hash


SettingsDep = Annotated[Settings, Depends(get_settings)]
PasswordHashDep = Annotated[PasswordHash, Depends(get_password_hash)]


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One session, and one transaction, per request: services flush, this dependency commits.

    The code after ``yield`` runs when the route is done: commit if it succeeded, roll back if it raised.
    """
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


# scope="function": the transaction ends before the response is sent, so a client never gets
# a success for a change that then failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# The two transports. With auto_error=False each gives None when its credential is missing,
# so that the other one can be tried; get_access_token answers 401 when neither is there.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)


def check_csrf(request: Request) -> None:
    """The X-CSRF-Token header must repeat the CSRF cookie: a page of another site can set neither."""
    # Exercise 7.4: Raise CsrfRejected unless the X-CSRF-Token header equals the CSRF cookie
    raise NotImplementedError('Exercise 7.4: Raise CsrfRejected unless the X-CSRF-Token header equals the CSRF cookie')


def get_access_token(
    request: Request,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> str:
    """The access token of the request: from ``Authorization: Bearer``, else from the session cookie."""
    if bearer:
        return bearer  # a header is never sent by the browser on its own: no CSRF risk
    # Exercise 7.4: Take the token from the session cookie; an unsafe method needs the CSRF header too
    raise NotAuthenticated("Not authenticated")


def get_current_user(
    token: Annotated[str, Depends(get_access_token)], session: SessionDep, settings: SettingsDep
) -> User:
    """The user the access token names; 401 if the token is not valid or its user is gone."""
    # Exercise 7.3: Decode the token (pinned algorithm, expiry, claims) and load its user; else 401
    raise NotImplementedError('Exercise 7.3: Decode the token (pinned algorithm, expiry, claims) and load its user; else 401')


CurrentUser = Annotated[User, Depends(get_current_user)]
