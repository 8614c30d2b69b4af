"""add isbn to books

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-18 14:03:52.114730
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Exercise 4.1: Add the nullable column books.isbn with the unique constraint uq_books_isbn
    raise NotImplementedError('Exercise 4.1: Add the nullable column books.isbn with the unique constraint uq_books_isbn')


def downgrade() -> None:
    # Exercise 4.1: Undo the upgrade: drop the constraint, then the column
    raise NotImplementedError('Exercise 4.1: Undo the upgrade: drop the constraint, then the column')
