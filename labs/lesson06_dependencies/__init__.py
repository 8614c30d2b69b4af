"""Lesson 06: a small shop API whose customers and orders are guarded, metered and mailed through dependencies."""
