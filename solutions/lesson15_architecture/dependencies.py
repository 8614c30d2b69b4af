"""Dependencies: a fresh unit of work per request, of the kind the settings ask for.

Routes hand it to the service layer, which opens it, and commits or not. Nothing here commits:
unlike a session dependency that commits after every successful route, a unit of work saves
only what a service decided to save.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from .unit_of_work import UnitOfWork

MAX_ID = 2**31 - 1

ProjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]
DryRun = Annotated[bool, Query(description="Check the change, history included, and save nothing")]


def get_unit_of_work(request: Request) -> UnitOfWork:
    make: Callable[[], UnitOfWork] = request.app.state.unit_of_work
    return make()


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work)]
