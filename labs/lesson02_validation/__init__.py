"""Lesson 02: trading operations with validated input, shaped output and settings, kept in memory."""
