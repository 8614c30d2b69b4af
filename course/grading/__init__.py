"""Instructor grading: submissions, the sandbox learner code runs in, and the reports."""
