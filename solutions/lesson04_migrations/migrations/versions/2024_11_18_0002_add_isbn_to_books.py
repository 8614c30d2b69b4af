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
    # BEGIN SOLUTION 4.1: Add the nullable column books.isbn with the unique constraint uq_books_isbn
    with op.batch_alter_table("books", schema=None) as batch_op:
        batch_op.add_column(sa.Column("isbn", sa.String(length=13), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_books_isbn"), ["isbn"])
    # END SOLUTION


def downgrade() -> None:
    # BEGIN SOLUTION 4.1: Undo the upgrade: drop the constraint, then the column
    with op.batch_alter_table("books", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_books_isbn"), type_="unique")
        batch_op.drop_column("isbn")
    # END SOLUTION
