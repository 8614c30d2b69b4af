"""A Celery app with one task, for testing the run's worker in both modes."""

from celery import Celery

from course.resources import RunResources, get_resources


def add(x: int, y: int) -> int:
    return x + y


def make_app(resources: RunResources) -> Celery:
    app = Celery("course-tests", set_as_current=False)
    app.conf.update(resources.celery_config())
    app.task(name="add")(add)
    return app


# What a worker process imports: configured for the run it inherits.
celery_app = make_app(get_resources())
