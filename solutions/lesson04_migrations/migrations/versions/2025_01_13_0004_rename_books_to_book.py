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
    # BEGIN SOLUTION 4.3: Rename books to book with its sequence, keys, index and the foreign key of review
    rename_book_table("books", "book")
    # END SOLUTION


def downgrade() -> None:
    # BEGIN SOLUTION 4.3: Rename book back to books, with every name that goes with it
    rename_book_table("book", "books")
    # END SOLUTION


# BEGIN SOLUTION 4.3: A helper that works both ways, on PostgreSQL and on SQLite
def rename_book_table(old: str, new: str) -> None:
    """Rename the table and every name the naming convention derived from its name."""
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":
        # Renames only change the catalog: no row is copied, every OID stays, and the
        # column default nextval('<seq>'::regclass) follows the sequence by OID.
        op.execute(f"ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq")
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT uq_{old}_isbn TO uq_{new}_isbn")
        op.execute(
            f"ALTER TABLE {new} RENAME CONSTRAINT fk_{old}_owner_id_user_account TO fk_{new}_owner_id_user_account"
        )
        op.execute(f"ALTER INDEX ix_{old}_title RENAME TO ix_{new}_title")
        # PostgreSQL already points review's foreign key at the renamed table; only its name is stale.
        op.execute(f"ALTER TABLE review RENAME CONSTRAINT fk_review_book_id_{old} TO fk_review_book_id_{new}")
        return
    # SQLite keeps constraint names inside each table's CREATE TABLE text, and cannot
    # rename them: batch mode rebuilds the table (create new, copy rows, drop old, rename)
    # with the new names. SQLite has no sequence: the next id is the largest one plus 1.
    with op.batch_alter_table(new, recreate="always") as batch_op:
        batch_op.drop_constraint(f"pk_{old}", type_="primary")
        batch_op.create_primary_key(f"pk_{new}", ["id"])
        batch_op.drop_constraint(f"uq_{old}_isbn", type_="unique")
        batch_op.create_unique_constraint(f"uq_{new}_isbn", ["isbn"])
        batch_op.drop_constraint(f"fk_{old}_owner_id_user_account", type_="foreignkey")
        batch_op.create_foreign_key(f"fk_{new}_owner_id_user_account", "user_account", ["owner_id"], ["id"])
        batch_op.drop_index(f"ix_{old}_title")
        batch_op.create_index(f"ix_{new}_title", ["title"])
    # SQLite's RENAME TABLE already rewrote review's REFERENCES clause; the name is stale.
    with op.batch_alter_table("review", recreate="always") as batch_op:
        batch_op.drop_constraint(f"fk_review_book_id_{old}", type_="foreignkey")
        batch_op.create_foreign_key(f"fk_review_book_id_{new}", new, ["book_id"], ["id"])


# STUB
# END SOLUTION
