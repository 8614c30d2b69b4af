"""Instructor grading, the trusted side: batches, check workers, the sandbox's clients, and the reports.

Nothing here imports ``course.sandboxed``: learner code runs only in jails, which
this package starts as a program and talks to through ``course.protocol``.
"""
