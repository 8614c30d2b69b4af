"""FastAPI Course Lab: the machinery that runs, checks and grades the lessons."""

__version__ = "0.1.0"
