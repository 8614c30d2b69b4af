"""Alembic runs this file for every command.

It answers two questions: which database to migrate (the app's, from its Settings)
and what the schema should look like (the models' metadata, for autogenerate).
"""

import sys
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel.sql.sqltypes import AutoString

# Alembic runs this file by its path, outside the package. Import the lab the way the app
# is imported: from the folder that holds labs/, three levels above this file.
TREE = str(Path(__file__).parents[3])
if TREE not in sys.path:
    sys.path.insert(0, TREE)

from labs.lesson04_migrations.config import Settings
from labs.lesson04_migrations.models import metadata

config = context.config

# The alembic command line logs what it does; a program that runs Alembic itself
# (a test, a notebook) may ask to keep its own logging instead.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write SQLModel's string type as plain ``sa.String``: migrations need only SQLAlchemy."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


OPTIONS = {
    # What autogenerate compares the database with. Its naming convention also names
    # the constraints that a migration creates without an explicit name.
    "target_metadata": metadata,
    # SQLite cannot ALTER most things: write every table change as a "batch" that
    # Alembic can replay as copy-and-move on SQLite, and as plain ALTERs on PostgreSQL.
    "render_as_batch": True,
    "render_item": render_item,
}


def run_migrations_offline() -> None:
    """``alembic upgrade head --sql``: print the SQL instead of running it."""
    context.configure(url=Settings().database_url, literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(Settings().database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # One transaction per migration: a failing one leaves the database at the last
        # revision that worked, on PostgreSQL and SQLite alike.
        context.configure(connection=connection, transaction_per_migration=True, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
