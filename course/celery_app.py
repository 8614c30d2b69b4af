"""A Celery app for the tasks of every lab, configured for the current run.

Services mode and docker-compose.yml start ``celery -A course.celery_app:celery_app worker``
with the run's queue; each lab's ``tasks`` module registers its tasks here.
"""

from celery import Celery

from .layout import lessons
from .resources import get_resources

celery_app = Celery("course")
celery_app.conf.update(get_resources().celery_config())
celery_app.autodiscover_tasks(lambda: [f"labs.{lesson.package}" for lesson in lessons()], related_name="tasks")
