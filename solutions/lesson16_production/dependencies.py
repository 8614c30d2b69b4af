"""Dependencies: settings, the engine and the session per request, Redis and the view counter."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy import Engine
from sqlmodel import Session

from .config import Settings
from .metrics import Metrics
from .service import ViewCounter


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def get_views(request: Request) -> ViewCounter:
    views: ViewCounter = request.app.state.views
    return views


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RedisDep = Annotated[Redis, Depends(get_redis)]
ViewsDep = Annotated[ViewCounter, Depends(get_views)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """One session, and one transaction, per request: services flush, this dependency commits."""
    with Session(engine) as session:
        try:
            yield session
        except Exception:
            session.rollback()
            raise
        session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
