"""Lesson 14: the trading desk's web pages (Jinja2, static files, a form) with its JSON API mounted under /api."""
