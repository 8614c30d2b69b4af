"""Lesson 04: Bookly's schema, owned by Alembic migrations instead of the app."""
