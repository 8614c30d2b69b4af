"""rename books to book

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-13 16:20:04.671395

Written by hand: autogenerate sees a renamed table as one table dropped and another
created, which would lose every row. A rename keeps the rows, but not the names that
were derived from the old table name; this migration renames those too.
"""

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Exercise 4.3: Rename books to book with its sequence, keys, index and the foreign key of review
    raise NotImplementedError('Exercise 4.3: Rename books to book with its sequence, keys, index and the foreign key of review')


def downgrade() -> None:
    # Exercise 4.3: Rename book back to books, with every name that goes with it
    raise NotImplementedError('Exercise 4.3: Rename book back to books, with every name that goes with it')


# Exercise 4.3: A helper that works both ways, on PostgreSQL and on SQLite
