"""Units of work: one transaction, with the repository that writes into it.

A service uses one like this::

    with uow:
        task = uow.tasks.get_task(task_id)
        ...
        uow.commit()

Leaving the ``with`` block without ``commit()`` rolls everything back: after an exception,
and also after a plain ``return``. Saving is a decision the service makes, never a side effect.
"""

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlmodel import Session

from .repository import MemoryRepository, MemoryStore, Repository, SqlRepository


class UnitOfWork(ABC):
    """The interface the service layer knows. ``tasks`` is valid inside the ``with`` block only."""

    tasks: Repository

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.rollback()  # a no-op after commit(); otherwise nothing of this unit of work is kept

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...


class SqlUnitOfWork(UnitOfWork):
    """A session per unit of work: a new one at ``with``, closed at the end."""

    def __init__(self, engine: Engine, *, history_fails: bool = False) -> None:
        self.engine = engine
        self.history_fails = history_fails

    def __enter__(self) -> Self:
        self.session = Session(self.engine, expire_on_commit=False)
        self.tasks = SqlRepository(self.session, history_fails=self.history_fails)
        return super().__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        # BEGIN SOLUTION 15.2: Roll back whatever commit() did not save, then close the session
        try:
            super().__exit__(exc_type, exc, traceback)
        finally:
            self.session.close()
        # STUB
        # self.session.commit()  # save whatever the service did
        # self.session.close()
        # END SOLUTION

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class MemoryUnitOfWork(UnitOfWork):
    """The same promise in memory: writes wait in the repository until ``commit()``."""

    def __init__(self, store: MemoryStore, *, history_fails: bool = False) -> None:
        self.store = store
        self.history_fails = history_fails

    def __enter__(self) -> Self:
        self.memory = MemoryRepository(self.store, history_fails=self.history_fails)
        self.tasks = self.memory
        return super().__enter__()

    def commit(self) -> None:
        self.memory.commit()

    def rollback(self) -> None:
        self.memory.rollback()
