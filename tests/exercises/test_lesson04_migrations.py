"""Graded checks for lesson 04: migrations with Alembic.

Every check migrates empty databases of its own by running the lab's Alembic in a
separate process (a sandbox when grading), exactly as you would in a terminal:

    BOOKLY_DATABASE_URL=<url> python -m alembic -c labs/lesson04_migrations/alembic.ini upgrade 0002

It then reads the schema and the rows from outside with SQLAlchemy's inspector and plain
queries: the checks never import your migrations. The revision ids 0001 to 0004 are the ones in
``labs/lesson04_migrations/migrations/versions/``. Each check runs on a SQLite database, and in
services mode on a PostgreSQL database too: one migration file serves both.

"Keeps every row" means: every row of a table that exists before and after a step is
still there afterwards, with the same id and the same values in the columns both
revisions have. A downgrade that drops a column (0002 → 0001) loses that column's
values, and a downgrade to base drops the tables themselves; no migration can keep what
its downgrade removes.
"""

import functools
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import (
    Engine,
    MetaData,
    String,
    Table,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from course.harness import outside_engine, run_lab_command
from course.pytest_plugin import LabFactory
from course.resources import get_resources

from .expect import expect_json, isolated_settings

LESSON = "lesson04_migrations"
URL_VARIABLE = "BOOKLY_DATABASE_URL"
OUTPUT_TAIL = 1200
NOT_DONE = re.compile(r"NotImplementedError: Exercise (\d+\.\d+)")

# What the naming convention of models.py calls everything, per table name.
BOOK_NAMES = ("pk_{t}", "fk_{t}_owner_id_user_account", "uq_{t}_isbn", "ix_{t}_title")
# The names revision 0001 gives `books`, which 0002 must leave in place.
BOOKS_AT_0001 = {"pk_books", "fk_books_owner_id_user_account", "ix_books_title"}
# The names of `review` that a rename of `books` must leave alone.
REVIEW_OWN_NAMES = {"pk_review", "ck_review_rating_range"}
# The reference rows of migration 0003, as ROLES in its file gives them.
SEEDED_ROLES = {
    "user": "Registers, adds books and reviews them",
    "admin": "Manages every book, review and user",
}
ISBN = "9780141439686"


def explain_failure(output: str) -> str:
    """The exception a failed alembic command ended with, and where it was raised; else its last lines."""
    lines = output.strip().splitlines()
    frames = [index for index, line in enumerate(lines) if line.startswith('  File "')]
    if not frames:
        text = "\n".join(lines)
        return text if len(text) <= OUTPUT_TAIL else "…" + text[-OUTPUT_TAIL:]
    error = [line for line in lines[frames[-1] + 1 :] if not line.startswith("    ")]
    # Point at the lab's own code when it is on the way (a migration, env.py), else at the last frame.
    mine = [index for index in frames if "/labs/" in lines[index]] or frames
    where = re.sub(r'"[^"]*?/(labs/[^"]+)"', r'"\1"', lines[mine[-1]].strip())  # from labs/ on: the same in every tree
    return "\n".join(error)[-OUTPUT_TAIL:] + f"\n  raised at {where}"


def earlier_exercise(output: str, exercise: str) -> str:
    """A note when the step failed in the migration of another exercise, which this one needs first."""
    found = NOT_DONE.search(output)
    if found is None or found[1] == exercise:
        return ""
    other = found[1]
    return (
        f"\nExercise {other} is not done yet, and this check runs its migration on the way: the migrations form"
        f" one chain (0001 → 0002 → 0003 → 0004), so finish exercise {other} first."
    )


class MigratedDatabase:
    """An empty database of this check, the lab's Alembic to migrate it, and a look inside."""

    def __init__(self, url: str, timeout: float, exercise: str) -> None:
        self.url = url
        self.timeout = timeout
        self.exercise = exercise
        self.engine: Engine = outside_engine(url)  # foreign keys on, and no query without end
        self.reflected = MetaData()
        self.kind = "PostgreSQL" if self.engine.dialect.name == "postgresql" else "SQLite"

    @property
    def sequences(self) -> bool:
        """PostgreSQL numbers rows with sequences; SQLite takes the largest id plus one."""
        return self.kind == "PostgreSQL"

    def after(self, *args: str) -> str:
        """``after `alembic upgrade 0002` on SQLite``: where a message starts."""
        return f"after `alembic {' '.join(args)}` on {self.kind}"

    async def run(self, *args: str) -> tuple[int, str]:
        """``alembic -c labs/lesson04_migrations/alembic.ini <args>`` on this database: exit code and output."""
        argv = ["-c", f"labs/{LESSON}/alembic.ini", *args]
        env = {URL_VARIABLE: self.url}
        command = functools.partial(run_lab_command, "alembic", argv, env=env, timeout=self.timeout, lesson=LESSON)
        # A check that runs out of time stops waiting; the command ends at its own timeout.
        result = await anyio.to_thread.run_sync(command, abandon_on_cancel=True)
        self.reflected = MetaData()  # the schema may have changed
        return result.returncode, result.output

    async def alembic(self, *args: str) -> None:
        """Run ``alembic <args>``; fail with the error it ended with if it fails."""
        code, output = await self.run(*args)
        if code != 0:
            pytest.fail(
                f"`alembic {' '.join(args)}` on {self.kind} failed (exit code {code}); expected it to succeed."
                f" It said:\n{explain_failure(output)}{earlier_exercise(output, self.exercise)}",
                pytrace=False,
            )

    # --- looking inside ------------------------------------------------------------------

    def tables(self) -> set[str]:
        return set(inspect(self.engine).get_table_names()) - {"alembic_version"}

    def revision(self) -> str | None:
        with self.engine.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def columns(self, table: str) -> dict[str, dict[str, Any]]:
        return {column["name"]: column for column in inspect(self.engine).get_columns(table)}

    def names(self, table: str) -> set[str]:
        """Names of the primary key, foreign keys, unique and check constraints and indexes of ``table``."""
        inspector = inspect(self.engine)
        found = {inspector.get_pk_constraint(table).get("name")}
        found |= {fk["name"] for fk in inspector.get_foreign_keys(table)}
        found |= {unique["name"] for unique in inspector.get_unique_constraints(table)}
        found |= {check["name"] for check in inspector.get_check_constraints(table)}
        found |= {index["name"] for index in inspector.get_indexes(table) if not index.get("duplicates_constraint")}
        return {name for name in found if name}

    def unique_names(self, table: str, column: str) -> set[str]:
        """Names of the unique constraints and unique indexes on exactly ``column``."""
        inspector = inspect(self.engine)
        found = {u["name"] for u in inspector.get_unique_constraints(table) if u["column_names"] == [column]}
        found |= {i["name"] for i in inspector.get_indexes(table) if i["unique"] and i["column_names"] == [column]}
        return {name for name in found if name}

    def foreign_keys(self, table: str) -> dict[str, str]:
        """Foreign key name → the table it refers to."""
        return {fk["name"]: fk["referred_table"] for fk in inspect(self.engine).get_foreign_keys(table)}

    def table(self, name: str) -> Table:
        """``name`` as the database has it now; reflected once per schema (a migration forgets them)."""
        if name not in self.reflected.tables:
            Table(name, self.reflected, autoload_with=self.engine)
        return self.reflected.tables[name]

    def rows(self, table: str, columns: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Every row of ``table`` in id order, as dicts (only ``columns`` if given)."""
        reflected = self.table(table)
        with self.engine.connect() as connection:
            found = [dict(row._mapping) for row in connection.execute(select(reflected).order_by(reflected.c.id))]
        return [{key: row[key] for key in columns} for row in found] if columns else found

    def insert(self, table: str, **values: Any) -> int:
        """Insert one row and return the id the database gave it."""
        reflected = self.table(table)
        with self.engine.begin() as connection:
            return connection.execute(reflected.insert().values(**values).returning(reflected.c.id)).scalar_one()

    def set_isbn(self, table: str, book_id: int, isbn: str) -> None:
        """Give one book an ISBN; the database's error (such as a unique violation) goes to the caller."""
        reflected = self.table(table)
        with self.engine.begin() as connection:
            connection.execute(update(reflected).where(reflected.c.id == book_id).values(isbn=isbn))

    def role_id(self, name: str) -> int | None:
        for row in self.rows("role"):
            if row["name"] == name:
                return row["id"]
        return None

    def dispose(self) -> None:
        self.engine.dispose()


@pytest.fixture
async def databases(request: pytest.FixtureRequest) -> AsyncIterator[list[MigratedDatabase]]:
    """Empty databases of this check: a SQLite file, and in services mode a PostgreSQL database as well."""
    timeout = float(request.config.getoption("course_check_timeout"))
    marker = request.node.get_closest_marker("exercise")
    exercise = str(marker.args[0]) if marker else ""
    resources = get_resources()
    urls = [resources.new_database("migrations", sqlite=True)]  # every migration must run on SQLite, as graded
    if resources.services:
        urls.append(resources.new_database("migrations"))
    migrated = [MigratedDatabase(url, timeout, exercise) for url in urls]
    yield migrated
    for database in migrated:
        database.dispose()


hermetic_settings = isolated_settings("BOOKLY_")


def fill_library(database: MigratedDatabase, books: str, *, isbn: bool = False) -> dict[str, list[int]]:
    """A user, three books and three reviews, inserted the way any client of the database would.

    With ``isbn`` (revision 0002 on), the second book has an ISBN and the others have none.
    """
    try:
        return _fill_library(database, books, isbn=isbn)
    except DBAPIError as error:
        pytest.fail(
            f"on {database.kind} at revision {database.revision()}, the database refused rows that any client of"
            f" this revision may store (a user, books without an ISBN, reviews): {error.orig}",
            pytrace=False,
        )


def _fill_library(database: MigratedDatabase, books: str, *, isbn: bool) -> dict[str, list[int]]:
    role_id = database.role_id("user") or database.insert("role", name="user", description="made by the check")
    user = database.insert("user_account", email="ada@example.com", full_name="Ada Lovelace", role_id=role_id)
    titles = (("Persuasion", "Jane Austen"), ("Middlemarch", "George Eliot"), ("Emma", "Jane Austen"))
    book_ids = [database.insert(books, title=title, author=author, owner_id=user) for title, author in titles]
    if isbn:
        database.set_isbn(books, book_ids[1], ISBN)
    review_ids = [
        database.insert("review", book_id=book_ids[0], rating=5, comment="Wise"),
        database.insert("review", book_id=book_ids[0], rating=4, comment="Slow start"),
        database.insert("review", book_id=book_ids[2], rating=3, comment=""),
    ]
    return {"users": [user], "books": book_ids, "reviews": review_ids}


def expect_rows(database: MigratedDatabase, table: str, expected: list[dict[str, Any]], after: str) -> None:
    """``table`` holds exactly the ``expected`` rows (compared on their columns)."""
    assert table in database.tables(), f"{after}: expected the table `{table}`, got tables {sorted(database.tables())}"
    columns = tuple(expected[0]) if expected else None
    got = database.rows(table, columns)
    assert got == expected, (
        f"{after}: expected the {len(expected)} rows of `{table}` unchanged, got {len(got)}:\n"
        f"expected {expected}\ngot      {got}"
    )


def expect_names(database: MigratedDatabase, table: str, expected: set[str], stale: str, after: str) -> None:
    """Every ``expected`` name is on ``table``, and no name there still mentions ``stale``."""
    names = database.names(table)
    missing = expected - names
    leftovers = {name for name in names if stale in name.split("_")}
    assert not missing and not leftovers, (
        f"{after}: expected `{table}` to have the constraints and indexes {sorted(expected)}"
        f" and no name with `{stale}`, got {sorted(names)}"
    )


def expect_refused(database: MigratedDatabase, table: str, what: str, **values: Any) -> None:
    try:
        database.insert(table, **values)
    except DBAPIError:
        return
    pytest.fail(
        f"on {database.kind}, inserting into `{table}` {values}: expected the database to refuse it ({what}),"
        " it was accepted",
        pytrace=False,
    )


def expect_new_id(database: MigratedDatabase, table: str, taken: int, owner: int, after: str) -> int:
    """A book inserted without an id gets one larger than ``taken``: the numbering survived the step."""
    try:
        new_id = database.insert(table, title="Sanditon", author="Jane Austen", owner_id=owner)
    except DBAPIError as error:
        pytest.fail(
            f"{after}: inserting a book into `{table}` without an id failed (is the id sequence intact?): {error.orig}",
            pytrace=False,
        )
    assert new_id > taken, f"{after}: a new book in `{table}` got id {new_id}, which was taken (largest id {taken})"
    return new_id


# --- 4.1: a new column, with a constraint named by the convention ---------------------------------


@pytest.mark.exercise("4.1", points=2)
async def test_isbn_column_with_a_named_unique_constraint(databases: list[MigratedDatabase]) -> None:
    """`alembic upgrade 0002` adds to `books` a nullable string column `isbn` of at most 13 characters and a unique
    constraint on it named `uq_books_isbn`, the name the naming convention gives it, on SQLite too. Every book is
    kept, with no ISBN yet, along with the keys and index `books` had, and two books can no longer share an ISBN."""
    for database in databases:
        await database.alembic("upgrade", "0001")
        fill_library(database, "books")
        before = database.rows("books")
        await database.alembic("upgrade", "0002")
        after = database.after("upgrade", "0002")
        columns = database.columns("books")
        assert "isbn" in columns, f"{after}: expected a column `isbn` in `books`, got {sorted(columns)}"
        isbn = columns["isbn"]
        assert isbn["nullable"], f"{after}: expected `books.isbn` to be nullable (the books stored so far have none)"
        kind = isbn["type"]
        assert isinstance(kind, String) and kind.length == 13, (
            f"{after}: expected `books.isbn` to be a string of length 13 (VARCHAR(13)), got {kind}"
        )
        uniques = database.unique_names("books", "isbn")
        assert "uq_books_isbn" in uniques, (
            f"{after}: expected a unique constraint `uq_books_isbn` on `books.isbn`, got {sorted(uniques) or 'none'}"
        )
        names = database.names("books")
        assert names >= BOOKS_AT_0001, f"{after}: expected `books` to keep {sorted(BOOKS_AT_0001)}, got {sorted(names)}"
        expect_rows(database, "books", [{**row, "isbn": None} for row in before], after)
        first, second = (row["id"] for row in before[:2])
        database.set_isbn("books", first, ISBN)
        try:
            database.set_isbn("books", second, ISBN)
        except DBAPIError:
            continue
        pytest.fail(
            f"{after}: two books were given the same ISBN {ISBN}; expected the unique constraint to refuse the second",
            pytrace=False,
        )


@pytest.mark.exercise("4.1", points=1)
async def test_isbn_downgrade_removes_it_and_keeps_the_books(databases: list[MigratedDatabase]) -> None:
    """`alembic downgrade 0001` after `upgrade 0002` removes the column `isbn` and `uq_books_isbn` again, on SQLite
    too, and keeps every book with the keys and index of revision 0001 (only the ISBNs are gone, with their
    column). `upgrade 0002` then works again."""
    for database in databases:
        await database.alembic("upgrade", "0002")
        ids = fill_library(database, "books", isbn=True)
        kept = ("id", "title", "author", "owner_id")
        before = database.rows("books", kept)
        await database.alembic("downgrade", "0001")
        after = database.after("downgrade", "0001")
        columns = database.columns("books")
        assert "isbn" not in columns, f"{after}: expected no column `isbn` in `books`, got {sorted(columns)}"
        names = database.names("books")
        assert names == BOOKS_AT_0001, (
            f"{after}: expected `books` to have exactly {sorted(BOOKS_AT_0001)} again, got {sorted(names)}"
        )
        expect_rows(database, "books", before, after)
        expect_new_id(database, "books", max(ids["books"]), ids["users"][0], after)
        before = database.rows("books", kept)
        await database.alembic("upgrade", "0002")
        expect_rows(database, "books", [{**row, "isbn": None} for row in before], database.after("upgrade", "0002"))


# --- 4.2: a data migration for the roles ---------------------------------------------------------


def expect_seeded(database: MigratedDatabase, after: str, *, also: dict[str, str] | None = None) -> None:
    """`role` holds the seeded roles with their descriptions, once each (and the roles of ``also``)."""
    roles = database.rows("role")
    names = Counter(row["name"] for row in roles)
    expected = {**SEEDED_ROLES, **(also or {})}
    assert names == Counter(list(expected)), (
        f"{after}: expected the roles {sorted(expected)} once each, got {dict(names) or 'no roles'}"
    )
    descriptions = {row["name"]: row["description"] for row in roles}
    assert descriptions == expected, f"{after}: expected the roles and descriptions {expected}, got {descriptions}"


@pytest.mark.exercise("4.2", points=2)
async def test_upgrade_inserts_the_roles_so_registration_works(
    databases: list[MigratedDatabase], lab: LabFactory
) -> None:
    """After `alembic upgrade 0003` on an empty database, the table `role` holds the roles "user" and "admin",
    once each, with the descriptions that ROLES gives them, and POST /users/register answers 201 with
    "role": "user"."""
    for database in databases:
        await database.alembic("upgrade", "0003")
        expect_seeded(database, database.after("upgrade", "0003"))
        async with lab(env={URL_VARIABLE: database.url}) as client:
            body = {"email": "grace@example.com", "full_name": "Grace Hopper"}
            user = expect_json(await client.post("/users/register", json=body), 201, "(the role 'user' exists)")
        assert user.get("role") == "user", f'POST /users/register → expected "role": "user", got {user!r}'


@pytest.mark.exercise("4.2", points=1)
async def test_upgrade_keeps_roles_that_exist_already(databases: list[MigratedDatabase]) -> None:
    """A role someone inserted by hand before revision 0003 (here "admin") is left as it is: after
    `alembic upgrade 0003` each role name appears once, and the hand-made row keeps its id and description."""
    for database in databases:
        await database.alembic("upgrade", "0002")
        admin = database.insert("role", name="admin", description="inserted by hand")
        await database.alembic("upgrade", "0003")
        after = database.after("upgrade", "0003") + ", on a database that had the role admin"
        roles = database.rows("role")
        names = Counter(row["name"] for row in roles)
        assert names == Counter({"user": 1, "admin": 1}), (
            f"{after}: expected user and admin once each, got {dict(names)}"
        )
        kept = [row for row in roles if row["id"] == admin]
        assert kept and kept[0]["description"] == "inserted by hand", (
            f"{after}: expected the existing admin row (id {admin}) unchanged, got {roles}"
        )


@pytest.mark.exercise("4.2", points=2)
async def test_downgrade_keeps_the_roles_users_have(databases: list[MigratedDatabase], lab: LabFactory) -> None:
    """`alembic downgrade 0002` deletes the seeded roles that no user has ("admin") and keeps the ones users
    refer to ("user"), so every user keeps a valid role. `upgrade 0003` then brings "admin" back, once, and
    every user row is kept through the round trip."""
    for database in databases:
        await database.alembic("upgrade", "0003")
        async with lab(env={URL_VARIABLE: database.url}) as client:
            body = {"email": "grace@example.com", "full_name": "Grace Hopper"}
            expect_json(await client.post("/users/register", json=body), 201, "(after `alembic upgrade 0003`)")
        users = database.rows("user_account")
        await database.alembic("downgrade", "0002")
        after = database.after("downgrade", "0002") + " with a registered user"
        expect_rows(database, "user_account", users, after)
        role_ids = {row["id"] for row in database.rows("role")}
        orphans = [user for user in users if user["role_id"] not in role_ids]
        assert not orphans, f"{after}: these users lost their role (no such role id): {orphans}"
        names = {row["name"] for row in database.rows("role")}
        assert names == {"user"}, f"{after}: expected only the role user, which a user has, got {sorted(names)}"
        await database.alembic("upgrade", "0003")
        again = database.after("upgrade", "0003") + " (again)"
        expect_seeded(database, again)
        expect_rows(database, "user_account", users, again)


@pytest.mark.exercise("4.2", points=1)
async def test_downgrade_deletes_only_the_seeded_roles(databases: list[MigratedDatabase]) -> None:
    """On a database where nobody has registered, `alembic downgrade 0002` deletes both seeded roles, "user" and
    "admin", and no other: a role added by hand (here "editor") stays, with its id. `upgrade 0003` then inserts
    "user" and "admin" again, once each."""
    for database in databases:
        await database.alembic("upgrade", "0003")
        editor = database.insert("role", name="editor", description="added by hand")
        await database.alembic("downgrade", "0002")
        after = database.after("downgrade", "0002") + " with no user"
        roles = database.rows("role", ("id", "name"))
        assert roles == [{"id": editor, "name": "editor"}], (
            f"{after}: expected only the hand-made role editor (id {editor}) left, got {roles}"
        )
        await database.alembic("upgrade", "0003")
        expect_seeded(database, database.after("upgrade", "0003") + " (again)", also={"editor": "added by hand"})


# --- 4.3 (stretch): renaming a table without losing a row -----------------------------------------


def expect_renamed_keys(database: MigratedDatabase, table: str, old: str, after: str) -> None:
    """``old`` is now ``table`` in every name: its constraints and index, review's foreign key, and the id
    sequence where the database has one; review keeps its own names."""
    expect_names(database, table, {name.format(t=table) for name in BOOK_NAMES}, old, after)
    unique = f"uq_{table}_isbn"
    assert unique in database.unique_names(table, "isbn"), f"{after}: expected `{unique}` to keep `isbn` unique"
    review_fks = database.foreign_keys("review")
    foreign_key = f"fk_review_book_id_{table}"
    assert review_fks.get(foreign_key) == table, (
        f"{after}: expected review's foreign key {foreign_key} → {table}, got {review_fks}"
    )
    review = database.names("review")
    assert review == REVIEW_OWN_NAMES | {foreign_key}, (
        f"{after}: expected `review` to have exactly {sorted(REVIEW_OWN_NAMES | {foreign_key})}, got {sorted(review)}"
    )
    if database.sequences:
        sequences = set(inspect(database.engine).get_sequence_names())
        assert f"{table}_id_seq" in sequences and f"{old}_id_seq" not in sequences, (
            f"{after}: expected the sequence {old}_id_seq renamed to {table}_id_seq, got {sorted(sequences)}"
        )


def expect_only_table(database: MigratedDatabase, table: str, old: str, after: str) -> None:
    tables = database.tables()
    assert table in tables and old not in tables, f"{after}: expected `{table}` and no `{old}`, got {sorted(tables)}"


@pytest.mark.exercise("4.3", points=3)
async def test_rename_keeps_rows_keys_index_and_sequence(databases: list[MigratedDatabase], lab: LabFactory) -> None:
    """(Stretch.) `alembic upgrade head` from 0003 renames `books` to `book` and keeps every book (ISBNs included)
    and every review. Its primary key, foreign key, unique constraint and index are named for `book` (pk_book,
    fk_book_owner_id_user_account, uq_book_isbn, ix_book_title), the foreign key of `review` is
    fk_review_book_id_book and refers to `book`, `review` keeps pk_review and ck_review_rating_range, and on
    PostgreSQL the id sequence is book_id_seq. A new book gets a new id, and GET /books lists them all."""
    for database in databases:
        await database.alembic("upgrade", "0003")
        fill_library(database, "books", isbn=True)
        books, reviews = database.rows("books"), database.rows("review")
        await database.alembic("upgrade", "head")
        after = database.after("upgrade", "head")
        expect_only_table(database, "book", "books", after)
        expect_rows(database, "book", books, after)
        expect_rows(database, "review", reviews, after)
        expect_renamed_keys(database, "book", "books", after)
        new_id = expect_new_id(database, "book", max(row["id"] for row in books), books[0]["owner_id"], after)
        try:
            database.insert("review", book_id=new_id, rating=4, comment="Unfinished")
        except DBAPIError as error:
            pytest.fail(
                f"{after}: adding a review of book {new_id} failed (does review's foreign key still name the old"
                f" table?): {error.orig}",
                pytrace=False,
            )
        expect_refused(database, "review", "no book 999999", book_id=999999, rating=4, comment="")
        async with lab(env={URL_VARIABLE: database.url}) as client:
            reading = "(the app reads the table `book`: do the models in models.py say `book`?)"
            listed = expect_json(await client.get("/books"), 200, reading)
        titles = [book.get("title") for book in listed] if isinstance(listed, list) else listed
        expected = [row["title"] for row in books] + ["Sanditon"]
        assert titles == expected, f"GET /books {after} → expected the titles {expected}, got {titles}"


@pytest.mark.exercise("4.3", points=2)
async def test_rename_round_trip_keeps_every_row(databases: list[MigratedDatabase]) -> None:
    """(Stretch.) upgrade head → downgrade 0003 → upgrade head keeps every row of every table. The downgrade gives
    back `books` with pk_books, fk_books_owner_id_user_account, uq_books_isbn, ix_books_title,
    fk_review_book_id_books (and books_id_seq on PostgreSQL), and new books still get new ids at each step."""
    for database in databases:
        await database.alembic("upgrade", "head")
        fill_library(database, "book", isbn=True)
        snapshot = {table: database.rows(table) for table in ("role", "user_account", "book", "review")}
        owner = snapshot["user_account"][0]["id"]
        await database.alembic("downgrade", "0003")
        after = database.after("downgrade", "0003")
        expect_only_table(database, "books", "book", after)
        expect_rows(database, "books", snapshot["book"], after)
        for table in ("role", "user_account", "review"):
            expect_rows(database, table, snapshot[table], after)
        expect_renamed_keys(database, "books", "book", after)
        new_id = expect_new_id(database, "books", max(row["id"] for row in snapshot["book"]), owner, after)
        snapshot["book"] = database.rows("books")
        await database.alembic("upgrade", "head")
        again = database.after("upgrade", "head") + " (again)"
        expect_only_table(database, "book", "books", again)
        for table, rows in snapshot.items():
            expect_rows(database, table, rows, again)
        expect_renamed_keys(database, "book", "books", again)
        expect_new_id(database, "book", new_id, owner, again)


@pytest.mark.exercise("4.3", points=1)
async def test_models_and_migrations_agree(databases: list[MigratedDatabase]) -> None:
    """(Stretch.) After `alembic upgrade head` on an empty database, `alembic check` finds no difference between the
    models and the schema the migrations built: the models say `book`, with `isbn`, like the database."""
    for database in databases:
        await database.alembic("upgrade", "head")
        after = database.after("upgrade", "head")
        assert database.revision() == "0004", f"{after}: expected revision 0004, got {database.revision()}"
        code, output = await database.run("check")
        if code != 0:
            found = [
                line.split("] ", 1)[-1] for line in output.splitlines() if "] Detected" in line and "SERIAL" not in line
            ]
            pytest.fail(
                f"`alembic check` {after}: expected no difference between the models and the database, got:\n"
                + ("\n".join(found) or explain_failure(output)),
                pytrace=False,
            )
