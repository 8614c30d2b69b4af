"""seed roles

Revision ID: 0003
Revises: 0002
Create Date: 2024-12-02 10:47:15.902311

A data migration: the schema does not change, rows do. Registration needs the role
"user" to exist; without this migration every new database answers 503 to it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as they are at this revision, with only the columns this migration uses.
# A data migration never imports the app's models: they describe the schema at head,
# which may have renamed or dropped what this revision still sees.
role = sa.table(
    "role",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("description", sa.String),
)

ROLES = {
    "user": "Registers, adds books and reviews them",
    "admin": "Manages every book, review and user",
}


def upgrade() -> None:
    # BEGIN SOLUTION 4.2: Insert the roles of ROLES that are not in the table yet
    existing = set(op.get_bind().scalars(sa.select(role.c.name)))
    missing = [{"name": name, "description": text} for name, text in ROLES.items() if name not in existing]
    if missing:
        op.bulk_insert(role, missing)
    # END SOLUTION


def downgrade() -> None:
    # BEGIN SOLUTION 4.2: Delete the roles of ROLES that no user refers to
    user_account = sa.table("user_account", sa.column("role_id", sa.Integer))
    in_use = sa.exists().where(user_account.c.role_id == role.c.id)
    op.execute(role.delete().where(role.c.name.in_(ROLES), ~in_use))
    # END SOLUTION
