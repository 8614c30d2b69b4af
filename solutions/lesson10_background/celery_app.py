"""The Celery app: where tasks travel (the broker), where results wait (the result backend), and the tasks.

``create_celery`` makes one per API app, from its settings. A worker process loads the one
at the bottom of this module, built from the settings in its environment:

    celery -A labs.lesson10_background.celery_app:celery_app worker --queues <queue>
"""

from typing import Any

from celery import Celery

from course.resources import get_resources

from . import tasks
from .config import Settings


def create_celery(settings: Settings) -> Celery:
    celery = Celery("reports", set_as_current=False)
    # The course decides the broker and the result backend of this run: a memory broker, read by a
    # worker thread (embedded mode), or Redis, read by worker processes (services mode).
    celery.conf.update(get_resources().celery_config())
    celery.conf.update(
        task_default_queue=settings.queue,  # delay() sends here
        task_track_started=True,  # a task a worker has taken is STARTED, not PENDING
        worker_prefetch_multiplier=1,  # a worker takes the next task only when it is free
        result_expires=3600,
        broker_transport_options=transport_options(settings),
    )
    tasks.register(celery, settings)
    return celery


def transport_options(settings: Settings) -> dict[str, Any]:
    return {
        # Redis: a task taken but not acknowledged is given to a worker again after this many seconds.
        "visibility_timeout": settings.visibility_timeout,
        # The memory broker is polled: look often, so a task waits milliseconds, not a second.
        "polling_interval": 0.02,
    }


celery_app = create_celery(Settings())
