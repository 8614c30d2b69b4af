"""Lesson 03: Bookly, a book catalogue with reviews and tags, kept in a database through SQLModel."""
