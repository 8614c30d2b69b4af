"""Instructor grading: submissions, the sandbox learner code runs in, and the reports."""

QUEUE = "course.grading"  # the broker queue of distributed grading, unless told another
