"""Instructor grading: submissions, the sandbox learner code runs in, and the reports."""

import os

QUEUE = "course.grading"  # the broker queue of distributed grading, unless told another

# Set in the trusted checks' process while grading: the zygote's socket. Defined here,
# where checking it imports nothing: self-checks never load the grading machinery.
SOCKET_ENV = "COURSE_GRADE_ZYGOTE"


def grading() -> bool:
    """Whether checks run under the grader, against sandboxed labs."""
    return bool(os.environ.get(SOCKET_ENV))
