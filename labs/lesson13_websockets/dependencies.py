"""Dependencies: settings, the session, the chat manager, and who is calling.

Over HTTP the access token comes as ``Authorization: Bearer <token>``. A browser cannot set
that header on a WebSocket, nor on an ``EventSource``, so those send it in the query string,
``?token=<token>``: see ``websocket_user``.
"""

from collections.abc import Iterator
from typing import Annotated

import jwt
from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from pwdlib import PasswordHash
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import HTTPConnection

from .config import Settings
from .exceptions import NotAuthenticated, refuse
from .manager import ChatManager
from .models import User
from .tokens import decode_access_token, user_id_of


def get_settings(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_manager(connection: HTTPConnection) -> ChatManager:
    manager: ChatManager = connection.app.state.manager
    return manager


def get_password_hash(request: Request) -> PasswordHash:
    password_hash: PasswordHash = request.app.state.password_hash
    return password_hash


SettingsDep = Annotated[Settings, Depends(get_settings)]
ManagerDep = Annotated[ChatManager, Depends(get_manager)]
PasswordHashDep = Annotated[PasswordHash, Depends(get_password_hash)]


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One session, and one transaction, per request: services flush, this dependency commits."""
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
# An EventSource sends no headers of its own: it brings its token in the query string.
TokenQuery = Annotated[str | None, Query(alias="token", max_length=4096, description="An access token")]


async def current_user(
    manager: ManagerDep,
    settings: SettingsDep,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    token: TokenQuery = None,
) -> User:
    """The user of the access token, from the Authorization header or else ``?token=``; 401 otherwise."""
    try:
        claims = decode_access_token(bearer or token or "", settings)
    except jwt.InvalidTokenError:
        raise NotAuthenticated() from None
    user = await manager.find_user(user_id_of(claims))
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def websocket_user(manager: ChatManager, settings: Settings, token: str | None) -> User:
    """The user of the token a WebSocket client sent in ``?token=``, on a connection already accepted.

    Without a valid token, or with the token of a user who is gone, the connection is closed
    with code 1008 (policy violation) and a JSON reason: raise ``refuse(detail)``.
    """
    # Exercise 13.2: Decode the token (pinned algorithm, expiry) and load its user; else raise refuse(...)
    claims = jwt.decode(token or "", options={"verify_signature": False})  # reads the claims, checks nothing
    user = await manager.find_user(user_id_of(claims))
    assert user is not None
    return user
