"""Lesson 01: a small trading API with users and trades, kept in memory."""
