"""Everything the machinery is configured by: settings from the environment, env names, timeouts and limits.

Embedded mode needs no services; ``COURSE_MODE=services`` switches the labs to
PostgreSQL, Redis and real Celery workers at the URLs below. Every timeout and limit
the machinery uses is named here once, so a change is made in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(StrEnum):
    """Where the labs' database, Redis and Celery broker live."""

    EMBEDDED = "embedded"  # SQLite files, fakeredis, a memory broker with a worker thread
    SERVICES = "services"  # PostgreSQL, Redis, and real `celery worker` processes

    @property
    def uses_services(self) -> bool:
        return self is Mode.SERVICES


ServicesPolicy = Literal["auto", "required", "skip"]

# --- environment variables the machinery reads or sets -------------------------------------
ROOT_ENV = "COURSE_ROOT"  # the tree under test, whose labs/ is the implementation
MODE_ENV = "COURSE_MODE"
STRICT_ENV = "COURSE_STRICT"
SERVICES_ENV = "COURSE_SERVICES"
RUN_ID_ENV = "COURSE_RUN_ID"  # a child process that shares its parent's run
RUN_DATABASES_ENV = "COURSE_RUN_DATABASES"
SERVE_LESSON_ENV = "COURSE_SERVE_LESSON"

GRADING_QUEUE = "course.grading"  # the broker queue of distributed grading, unless told another

# --- timeouts, in seconds ------------------------------------------------------------------
CHECK_TIMEOUT = 20.0  # one check, in a self-check and in the grader alike
SUBMISSION_TIMEOUT = 300.0  # all the checks of one submission, under the grader
LIFESPAN_TIMEOUT = 10.0  # an app's start-up or shutdown
REQUEST_TIMEOUT = 10.0  # one request a check sends
LAB_START_TIMEOUT = 15.0  # lab() in a notebook, serve(), a sandboxed app's start
CELL_TIMEOUT = 120  # one notebook cell under nbval or course record
SERVICE_TIMEOUT = 3.0  # asking whether PostgreSQL or Redis answer
WORKER_START_TIMEOUT = 20.0  # a Celery worker of a run
COMMAND_TIMEOUT = 60.0  # a lab command such as `alembic upgrade`
QUERY_TIMEOUT = 5.0  # one statement a check runs on a lab's database, from outside

# --- time zones ---------------------------------------------------------------------------
# Checks, notebooks and check strength also run in a zone far from UTC, and not a whole hour
# away, so that a lab that reads a time in the machine's zone shows it.
FAR_TIME_ZONE = "Asia/Kathmandu"

# Check strength: grading batches and self-checks at once. They mostly wait (on workers
# starting, on sleeps the checks need), so more than the machine has cores.
STRENGTH_JOBS = 6

# --- files ---------------------------------------------------------------------------------
NBVAL_CONFIG = "tests/nbval.cfg"  # nbval's output sanitizers, also applied by course record


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed lab may use; `course grade` takes each as an option."""

    cpu_seconds: int = 30
    memory_bytes: int = 2 * 1024**3
    processes: int = 64
    file_bytes: int = 16 * 1024**2
    open_files: int = 256
    tmpfs_bytes: int = 64 * 1024**2  # each private /tmp and /dev/shm, and the learner's writable space
    tmpfs_inodes: int = 4096
    response_bytes: int = 32 * 1024**2  # what the trusted side reads from one connection to the app

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class SubmissionLimits:
    """What the grader accepts from a learner before any code runs."""

    archive_bytes: int = 32 * 1024**2
    unpacked_bytes: int = 64 * 1024**2
    entries: int = 5000
    name_length: int = 255  # one path component
    path_length: int = 1024
    depth: int = 24


class CourseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COURSE_", extra="ignore")

    mode: Mode = Mode.EMBEDDED
    # auto: services mode runs when reachable; required: unreachable fails; skip: never.
    services: ServicesPolicy = "auto"
    # A failing check() in a notebook raises, so that nbval fails.
    strict: bool = False
    check_timeout: float = Field(default=CHECK_TIMEOUT, gt=0)
    scratch: Path | None = None  # where runs keep their databases and files (see resources.scratch_root)
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
