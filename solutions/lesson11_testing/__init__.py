"""Lesson 11: a Bookly lending library, and the tests that prove it works: pytest, an async client, overrides."""
