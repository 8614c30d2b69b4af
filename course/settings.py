"""Course-wide settings, read from the environment.

Embedded mode needs no services; ``COURSE_MODE=services`` switches the labs to
PostgreSQL, Redis and real Celery workers at the URLs below.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Mode = Literal["embedded", "services"]
ServicesPolicy = Literal["auto", "required", "skip"]


class CourseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COURSE_", extra="ignore")

    mode: Mode = "embedded"
    # auto: services mode runs when reachable; required: unreachable fails; skip: never.
    services: ServicesPolicy = "auto"
    # A failing check() in a notebook raises, so that nbval fails.
    strict: bool = False
    check_timeout: float = Field(default=20.0, gt=0)
    database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        validation_alias=AliasChoices("DATABASE_URL", "COURSE_DATABASE_URL"),
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "COURSE_REDIS_URL"),
    )


@lru_cache
def get_settings() -> CourseSettings:
    return CourseSettings()
