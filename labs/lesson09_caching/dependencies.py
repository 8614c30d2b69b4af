"""The dependencies of the API: settings, Redis, one session per request, and the trader who calls.

A trader is identified by an API key sent as a bearer token: ``Authorization: Bearer <key>``.
It stands in for real authentication, which lesson 07 teaches.
"""

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis
from sqlalchemy import Engine
from sqlmodel import Session, select

from .config import Settings
from .market import MarketData
from .models import User

API_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def get_market(request: Request) -> MarketData:
    market: MarketData = request.app.state.market
    return market


SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]
MarketDep = Annotated[MarketData, Depends(get_market)]


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One session, and one transaction, per request: services flush, this dependency commits."""
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

bearer = HTTPBearer(auto_error=False, description="Your API key (real authentication: lesson 07)")


def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], session: SessionDep
) -> User:
    """The trader whose API key is the bearer token; 401 without one, or with a key that names nobody."""
    key = credentials.credentials if credentials else ""
    user = session.exec(select(User).where(User.api_key == key)).first() if API_KEY.match(key) else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Send your API key as a bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]
