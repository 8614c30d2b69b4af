"""Graded checks for lesson 03: Bookly in a database with SQLModel.

Every check talks to the app over HTTP. The N+1 check also counts the SQL statements a
request sends: it gives the app a database of the course's (``BOOKLY_DATABASE_URL``) whose
statements the course counts where the app cannot reach, in-process and under the grader alike.
"""

import json
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from course.harness import CountedDatabase
from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, expect_status, isolated_settings

# Where a check is not about ratings it sends ratings up to 4: the starter's `lt=5` must not fail other exercises.
NEW_BOOK = {"title": "Check Book", "author": "Pat Example", "year": 2024}


hermetic_settings = isolated_settings("BOOKLY_")


def book(number: int, **extra: Any) -> dict[str, Any]:
    """A new book with an ISBN of its own (97830000NNNNN), optionally with tags and reviews."""
    return {**NEW_BOOK, "title": f"Check Book {number}", "isbn": f"97830000{number:05d}", **extra}


async def create(client: AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/books", json=body)
    created = expect_json(response, 201, "(a new book)")
    assert isinstance(created, dict) and isinstance(created.get("id"), int), (
        f"{describe(response)}; expected the created book with an `id`"
    )
    return created


async def all_books(client: AsyncClient) -> list[dict[str, Any]]:
    books = expect_json(await client.get("/books"), 200)
    assert isinstance(books, list), f"GET /books → expected a JSON list, got {books!r}"
    return books


def tag_names(tags: Any) -> list[str]:
    """Tag names from a response: plain strings, or objects with a `name`."""
    return [tag if isinstance(tag, str) else str(tag.get("name")) for tag in tags or []]


async def all_tags(client: AsyncClient) -> list[str]:
    return tag_names(expect_json(await client.get("/tags"), 200))


def by_isbn(books: list[dict[str, Any]], isbn: str) -> list[dict[str, Any]]:
    return [listed for listed in books if listed.get("isbn") == isbn]


def reviews_of(listed: Any) -> Any:
    """The `reviews` of a book from a response (or the whole body, when it is no book)."""
    return listed.get("reviews") if isinstance(listed, dict) else listed


def reviewers(listed: Any) -> list[tuple[Any, Any]]:
    """(reviewer, rating) of each review of a book from a response, sorted."""
    reviews = reviews_of(listed)
    if not isinstance(reviews, list):
        return []
    return sorted((review.get("reviewer"), review.get("rating")) for review in reviews if isinstance(review, dict))


def expect_detail(response: httpx.Response, status: int, detail: str, what: str) -> None:
    """The status, and exactly this JSON body: ``{"detail": detail}``."""
    body = expect_json(response, status, what)
    expected = json.dumps({"detail": detail})
    assert body == {"detail": detail}, f"{describe(response)}; expected {status} {expected}, this very detail"


SECOND_REVIEW = "A reviewer can review a book only once"
NO_ID_YET = (
    "A 500 that comes with ResponseValidationError about `id` (input None) means the route returned a review that"
    " was never sent to the database: only the database gives a row its id, when the session flushes."
)


async def post_review(client: AsyncClient, path: str, review: dict[str, Any], what: str) -> Any:
    """POST a review that must be accepted: 201, and the stored review as JSON."""
    response = await client.post(f"{path}/reviews", json=review)
    hint = f" {NO_ID_YET}" if response.status_code == 500 else ""
    assert response.status_code == 201, f"{describe(response)}; expected 201 {what}.{hint}"
    return expect_json(response, 201, what)


# --- 3.1: reviews, rated 1 to 5 ----------------------------------------------------------------------


@pytest.mark.exercise("3.1", points=1)
async def test_a_five_star_review_is_accepted(client: AsyncClient) -> None:
    """POST /books/{id}/reviews with {"reviewer": "dana", "rating": 5, "comment": "Loved it"} → 201 with the
    review: its `id`, and the `reviewer`, `rating` and `comment` sent. GET /books/{id} then lists it among the
    book's `reviews`."""
    created = await create(client, book(101))
    path = f"/books/{created['id']}"
    sent = {"reviewer": "dana", "rating": 5, "comment": "Loved it"}
    review = await post_review(client, path, sent, "(5 stars is a valid rating: ratings go from 1 to 5, both included)")
    assert isinstance(review, dict) and isinstance(review.get("id"), int) and review.items() >= sent.items(), (
        f"POST {path}/reviews {sent!r} → expected the stored review: an `id`, and the reviewer, rating and comment"
        f" sent; got {review!r}"
    )
    stored = reviews_of(expect_json(await client.get(path), 200))
    assert isinstance(stored, list) and review in stored, (
        f"GET {path} after dana's 5-star review → expected it in `reviews` as POST returned it, {review!r};"
        f" got {stored!r}"
    )


@pytest.mark.exercise("3.1", points=1)
async def test_ratings_outside_one_to_five_are_refused(client: AsyncClient) -> None:
    """POST /books/{id}/reviews with rating 0 or 6 → 422 naming `rating`, and nothing is added;
    rating 1 → 201."""
    created = await create(client, book(102))
    path = f"/books/{created['id']}"
    for bad in (0, 6):
        response = await client.post(f"{path}/reviews", json={"reviewer": f"r{bad}", "rating": bad})
        expect_json(response, 422, "(ratings go from 1 to 5)")
        assert "rating" in response.text, f"{describe(response)}; expected the 422 detail to name `rating`"
    await post_review(client, path, {"reviewer": "r1", "rating": 1}, "(1 star is valid)")
    fetched = expect_json(await client.get(path), 200)
    assert reviewers(fetched) == [("r1", 1)], (
        f"GET {path} after refused ratings 0 and 6 and an accepted 1 → expected only r1's review, got"
        f" {reviews_of(fetched)!r}"
    )


@pytest.mark.exercise("3.1", points=1)
async def test_a_review_of_an_unknown_book_is_404(client: AsyncClient) -> None:
    """POST /books/{id}/reviews for a book id that does not exist → 404 {"detail": "Book {id} not found"}
    (the id the client sent), never a 500; the same review for an existing book → 201."""
    created = await create(client, book(103))
    missing = created["id"] + 1000  # ids count up from 1 in a fresh catalogue: this one is free
    response = await client.post(f"/books/{missing}/reviews", json={"reviewer": "eve", "rating": 3})
    expect_detail(response, 404, f"Book {missing} not found", f"(there is no book {missing})")
    await post_review(client, f"/books/{created['id']}", {"reviewer": "eve", "rating": 3}, "(a review)")


@pytest.mark.exercise("3.1", points=1)
async def test_one_review_per_reviewer_and_book(client: AsyncClient) -> None:
    """A second POST /books/{id}/reviews by the same reviewer → 409 {"detail": "A reviewer can review a book
    only once"}, and the book keeps only the first review. Another reviewer can still review the book, and the
    same reviewer another book (201)."""
    first, other = await create(client, book(104)), await create(client, book(105))
    path = f"/books/{first['id']}"
    await post_review(client, path, {"reviewer": "finn", "rating": 4}, "(a first review)")
    again = await client.post(f"{path}/reviews", json={"reviewer": "finn", "rating": 2})
    expect_detail(again, 409, SECOND_REVIEW, "(finn has reviewed this book already)")
    await post_review(client, path, {"reviewer": "gus", "rating": 3}, "(another reviewer of the same book)")
    elsewhere = f"/books/{other['id']}"
    await post_review(client, elsewhere, {"reviewer": "finn", "rating": 3}, "(finn's first review of another book)")
    fetched = expect_json(await client.get(path), 200)
    assert reviewers(fetched) == [("finn", 4), ("gus", 3)], (
        f"GET {path} → expected finn's first review (4) and gus's (3), got {reviews_of(fetched)!r}"
    )


# --- 3.2: no N+1 queries ------------------------------------------------------------------------------


def per_book_loading(extra_statements: int, extra_books: int) -> str:
    """What a growth in statements says about which relationship is still loaded book by book."""
    if extra_statements == 2 * extra_books:
        return "the reviews and the tags of each book are still loaded with queries of their own"
    if extra_statements == extra_books:
        return "one of the two relationships, reviews or tags, is still loaded with a query per book"
    return "something is still loaded book by book"


@pytest.mark.exercise("3.2", points=3)
async def test_listing_books_takes_a_constant_number_of_statements(
    lab: LabFactory, counted_database: CountedDatabase
) -> None:
    """GET /books sends the database as many SQL statements with 7 books (the 4 it starts with and 3 more) as with
    12: the reviews and tags of all books are loaded together, not one query per book. Every book still comes
    with its `tags` and `reviews`. The check gives the app its database in BOOKLY_DATABASE_URL and counts the
    statements that reach it."""
    counts: list[tuple[int, int]] = []
    added: list[dict[str, Any]] = []
    async with lab(env={"BOOKLY_DATABASE_URL": counted_database.url}) as client:
        stored_before = sum(counted_database.rows().values())
        for number in range(1, 9):
            body = book(
                200 + number, tags=["check-list", f"check-{number}"], reviews=[{"reviewer": "hal", "rating": 4}]
            )
            added.append(body)
            await create(client, body)
            if number in (3, 8):
                before = counted_database.statements()
                response = await client.get("/books")
                sent = counted_database.statements() - before
                listed = expect_json(response, 200)
                assert isinstance(listed, list), f"GET /books → expected a JSON list, got {listed!r}"
                assert sent > 0, (
                    f"{describe(response)}; but no SQL statement reached the database given in BOOKLY_DATABASE_URL:"
                    " the app must keep its books in the database its settings name"
                )
                counts.append((len(listed), sent))
                for created in added:
                    found = by_isbn(listed, created["isbn"])
                    assert (
                        len(found) == 1
                        and sorted(tag_names(found[0].get("tags"))) == sorted(created["tags"])
                        and (reviewers(found[0]) == [("hal", 4)])
                    ), (
                        f"GET /books → expected book {created['isbn']} once, with its tags and hal's review,"
                        f" got {found!r}"
                    )
        stored = sum(counted_database.rows().values()) - stored_before
        assert stored >= 2 * len(added), (
            f"after {len(added)} books with a review each, the database in BOOKLY_DATABASE_URL holds only {stored}"
            " new rows: the app must store its books there"
        )
    (few, few_statements), (many, many_statements) = counts
    assert few_statements == many_statements, (
        f"GET /books sent {few_statements} SQL statements for {few} books and {many_statements} for {many} books:"
        f" {per_book_loading(many_statements - few_statements, many - few)}. Expected the same number whatever the"
        " number of books: load the reviews and the tags of all listed books at once."
    )


# --- 3.3: one transaction per book --------------------------------------------------------------------

ATOMIC_ISBN = "9783000000301"


def atomic_book(reviews: list[dict[str, Any]]) -> dict[str, Any]:
    tags = ["check-atomic", "python"]
    return {**NEW_BOOK, "title": "All or Nothing", "isbn": ATOMIC_ISBN, "tags": tags, "reviews": reviews}


TWICE_BY_IVY = [{"reviewer": "ivy", "rating": 4}, {"reviewer": "ivy", "rating": 2}]


async def refused_book(client: AsyncClient) -> httpx.Response:
    """POST a book whose second review breaks the one-review-per-reviewer rule: refused after the book is written."""
    response = await client.post("/books", json=atomic_book(TWICE_BY_IVY))
    expect_status(response, 409, "(ivy reviews the book twice: the database refuses the second review)")
    return response


def what_stayed(books: list[dict[str, Any]], tags: list[str]) -> tuple[list[str], str]:
    """What a refused POST /books left stored, and where the transaction must have ended early."""
    stayed: list[str] = []
    hint = ""
    for listed in by_isbn(books, ATOMIC_ISBN):
        linked, reviews = tag_names(listed.get("tags")), reviews_of(listed) or []
        stayed.append(f"the book (id {listed.get('id')}, tags {linked!r}, {len(reviews)} review(s))")
        if not linked:
            hint = "The transaction ended after the book was added and before its tags were linked."
        elif not reviews:
            hint = (
                "The transaction ended after the tags were linked and before the reviews were written"
                " (maybe earlier too)."
            )
        else:
            hint = "The transaction ended between two reviews."
    if "check-atomic" in tags:
        stayed.append("the new tag 'check-atomic'")
        hint = hint or "The new tag was stored apart from the book, in a transaction of its own."
    return stayed, hint


@pytest.mark.exercise("3.3", points=2)
async def test_a_refused_book_leaves_nothing_behind(client: AsyncClient) -> None:
    """POST /books with new tags and two reviews by the same reviewer → 409, and nothing of it is stored:
    GET /books shows no book with its ISBN and GET /tags no new tag."""
    await refused_book(client)
    stayed, hint = what_stayed(await all_books(client), await all_tags(client))
    assert not stayed, (
        f"POST /books {atomic_book(TWICE_BY_IVY)!r} was refused with 409, yet it left {' and '.join(stayed)}."
        f" Expected nothing stored: the book, its tags and its reviews are one transaction. {hint}"
        " Look for what ends it there: every commit() does."
    )


@pytest.mark.exercise("3.3", points=1)
async def test_a_corrected_retry_succeeds(client: AsyncClient) -> None:
    """After that refused POST /books, the same book sent again with two different reviewers → 201 with its
    tags and both reviews, and GET /books lists it exactly once: a failed attempt leaves nothing in the way."""
    await refused_book(client)
    fixed = atomic_book([{"reviewer": "ivy", "rating": 4}, {"reviewer": "jo", "rating": 2}])
    response = await client.post("/books", json=fixed)
    created = expect_json(response, 201, "(the corrected book; the refused attempt must not have stored it)")
    tags = sorted(tag_names(created.get("tags"))) if isinstance(created, dict) else created
    assert tags == ["check-atomic", "python"] and reviewers(created) == [("ivy", 4), ("jo", 2)], (
        f"{describe(response)}; expected tags check-atomic and python and the reviews of ivy (4) and jo (2)"
    )
    found = by_isbn(await all_books(client), ATOMIC_ISBN)
    assert len(found) == 1 and reviewers(found[0]) == [("ivy", 4), ("jo", 2)], (
        f"GET /books → expected book {ATOMIC_ISBN} once with the reviews of ivy and jo, got {found!r}"
    )


# --- 3.4: books by tag --------------------------------------------------------------------------------


@pytest.mark.exercise("3.4", points=2)
async def test_books_can_be_filtered_by_tag(client: AsyncClient) -> None:
    """GET /books?tag=X lists exactly the books tagged X (that very name, not one that contains it), in id order,
    each still with all its tags (for X = "check-pick" and for "python"); a tag that no book carries → 200 and []."""
    await create(client, book(401, tags=["check-pick", "python"]))
    await create(client, book(402, tags=["check-other"]))
    await create(client, book(403, tags=["check-pick"]))
    await create(client, book(404, tags=["check-pick-two"]))  # a longer name that contains "check-pick"
    everything = await all_books(client)
    for tag in ("check-pick", "python"):
        tagged = [listed for listed in everything if tag in tag_names(listed.get("tags"))]
        expected = [(listed.get("id"), sorted(tag_names(listed.get("tags")))) for listed in tagged]
        response = await client.get("/books", params={"tag": tag})
        body = expect_json(response, 200)
        got = [(b.get("id"), sorted(tag_names(b.get("tags")))) for b in body] if isinstance(body, list) else body
        assert got == expected, (
            f"{describe(response)}; expected the books tagged {tag!r} in id order, each with all its tags,"
            f" as (id, tags): {expected!r}; got {got!r}"
        )
    response = await client.get("/books", params={"tag": "no-book-has-this"})
    expect_status(response, 200, "(an unused tag is an empty list, not an error)")
    assert response.json() == [], f"{describe(response)}; expected []"
