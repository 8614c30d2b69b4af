"""Dependencies: settings, the session per request, the password hasher, and the signed-in trader."""

from collections.abc import Iterator
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import APIKeyCookie
from pwdlib import PasswordHash
from sqlalchemy import Engine
from sqlmodel import Session, select

from .config import Settings
from .exceptions import NotAuthenticated
from .models import Trader
from .sessions import SESSION_COOKIE, decode_session_token


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
    """One session, and one transaction, per request: services flush, this dependency commits."""
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)


def get_current_trader(
    token: Annotated[str | None, Depends(cookie_scheme)], session: SessionDep, settings: SettingsDep
) -> Trader:
    """The trader the session cookie names; 401 without a valid one."""
    if not token:
        raise NotAuthenticated()
    try:
        claims = decode_session_token(token, settings)
    except jwt.InvalidTokenError:
        raise NotAuthenticated("Session expired or invalid: sign in again") from None
    trader = session.exec(select(Trader).where(Trader.email == claims["sub"])).first()
    if trader is None:
        raise NotAuthenticated("Session expired or invalid: sign in again")
    return trader


CurrentTrader = Annotated[Trader, Depends(get_current_trader)]
