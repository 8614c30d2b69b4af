"""Lesson 10: a reports service that builds sales reports in the background, with BackgroundTasks and Celery."""
