"""Lesson 05: a trading back office as a REST API, with accounts and operations in a database."""
