"""Errors of the domain. Services raise them; one handler in ``errors.py`` turns them into responses."""

from fastapi import status


class DomainError(Exception):
    """Something the client asked for that the domain refuses, with a detail the client can act on."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
