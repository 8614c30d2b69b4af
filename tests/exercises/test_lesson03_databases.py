"""Graded checks for lesson 03: Bookly in a database with SQLModel.

Every check talks to the app over HTTP. The one probe inside the process counts the
SQL statements a request sends: the course wraps every lab in a counter that listens on
SQLAlchemy's ``Engine`` class (every engine, whatever the lab calls it) and reports the
count in a response header, in-process and under the grader alike.
"""

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from course.statements import HEADER as STATEMENTS_HEADER

from .expect import describe, expect_json, expect_status

# Where a check is not about ratings it sends ratings up to 4: the starter's `lt=5` must not fail other exercises.
NEW_BOOK = {"title": "Check Book", "author": "Pat Example", "year": 2024}


@pytest.fixture(autouse=True)
def hermetic_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the environment a check passes to `lab` counts: no stray BOOKLY_* variable."""
    for name in list(os.environ):
        if name.upper().startswith("BOOKLY_"):
            monkeypatch.delenv(name)
    yield


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


async def unknown_book_id(client: AsyncClient) -> int:
    ids = [listed.get("id") for listed in await all_books(client)]
    return max((i for i in ids if isinstance(i, int)), default=0) + 1000


def expect_detail(response: httpx.Response, status: int, what: str) -> None:
    """The status, and a JSON body whose `detail` says what went wrong."""
    body = expect_json(response, status, what)
    assert isinstance(body, dict) and body.get("detail"), f"{describe(response)}; expected a `detail` that says why"


# --- 3.1: reviews, rated 1 to 5 ----------------------------------------------------------------------


@pytest.mark.exercise("3.1", points=1)
async def test_a_five_star_review_is_accepted(client: AsyncClient) -> None:
    """POST /books/{id}/reviews with {"reviewer": "dana", "rating": 5} → 201 with the review (its `id`,
    `reviewer` and `rating` 5), and GET /books/{id} then lists it among the book's `reviews`."""
    created = await create(client, book(101))
    path = f"/books/{created['id']}"
    review = expect_json(
        await client.post(f"{path}/reviews", json={"reviewer": "dana", "rating": 5, "comment": "Loved it"}),
        201,
        "(5 stars is a valid rating: ratings go from 1 to 5, both included)",
    )
    assert isinstance(review, dict) and review.get("rating") == 5 and review.get("reviewer") == "dana" and isinstance(
        review.get("id"), int
    ), (
        f"POST {path}/reviews with rating 5 → expected the stored review with an id, reviewer 'dana' and rating 5,"
        f" got {review!r}"
    )
    fetched = expect_json(await client.get(path), 200)
    assert ("dana", 5) in reviewers(fetched), (
        f"GET {path} after dana's 5-star review → expected it in `reviews`, got {reviews_of(fetched)!r}"
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
    expect_json(await client.post(f"{path}/reviews", json={"reviewer": "r1", "rating": 1}), 201, "(1 star is valid)")
    fetched = expect_json(await client.get(path), 200)
    assert reviewers(fetched) == [("r1", 1)], (
        f"GET {path} after refused ratings 0 and 6 and an accepted 1 → expected only r1's review, got"
        f" {reviews_of(fetched)!r}"
    )


@pytest.mark.exercise("3.1", points=1)
async def test_a_review_of_an_unknown_book_is_404(client: AsyncClient) -> None:
    """POST /books/{id}/reviews for a book id that does not exist → 404 with a `detail`, never a 500;
    the same review for an existing book → 201."""
    missing = await unknown_book_id(client)
    response = await client.post(f"/books/{missing}/reviews", json={"reviewer": "eve", "rating": 3})
    expect_detail(response, 404, f"(there is no book {missing})")
    created = await create(client, book(103))
    expect_json(
        await client.post(f"/books/{created['id']}/reviews", json={"reviewer": "eve", "rating": 3}), 201, "(a review)"
    )


@pytest.mark.exercise("3.1", points=1)
async def test_one_review_per_reviewer_and_book(client: AsyncClient) -> None:
    """A second POST /books/{id}/reviews by the same reviewer → 409 with a `detail`, and the book keeps only
    the first one; another reviewer can still review the book (201)."""
    created = await create(client, book(104))
    path = f"/books/{created['id']}"
    expect_json(await client.post(f"{path}/reviews", json={"reviewer": "finn", "rating": 4}), 201, "(a first review)")
    again = await client.post(f"{path}/reviews", json={"reviewer": "finn", "rating": 2})
    expect_detail(again, 409, "(finn has reviewed this book already)")
    expect_json(await client.post(f"{path}/reviews", json={"reviewer": "gus", "rating": 3}), 201, "(another reviewer)")
    fetched = expect_json(await client.get(path), 200)
    assert reviewers(fetched) == [("finn", 4), ("gus", 3)], (
        f"GET {path} → expected finn's first review (4) and gus's (3), got {reviews_of(fetched)!r}"
    )


# --- 3.2: no N+1 queries ------------------------------------------------------------------------------


@pytest.mark.exercise("3.2", points=3)
async def test_listing_books_takes_a_constant_number_of_statements(client: AsyncClient) -> None:
    """GET /books sends the database as many SQL statements with 3 books added as with 8 added: the reviews
    and tags of all books are loaded together, not one query per book. Every book still comes with its
    `tags` and `reviews`."""
    counts: list[tuple[int, int]] = []
    added: list[dict[str, Any]] = []
    for number in range(1, 9):
        body = book(200 + number, tags=["check-list", f"check-{number}"], reviews=[{"reviewer": "hal", "rating": 4}])
        added.append(body)
        await create(client, body)
        if number in (3, 8):
            response = await client.get("/books")
            listed = expect_json(response, 200)
            assert isinstance(listed, list), f"GET /books → expected a JSON list, got {listed!r}"
            counts.append((len(listed), int(response.headers.get(STATEMENTS_HEADER, "-1"))))
            for sent in added:
                found = by_isbn(listed, sent["isbn"])
                assert len(found) == 1 and sorted(tag_names(found[0].get("tags"))) == sorted(sent["tags"]) and (
                    reviewers(found[0]) == [("hal", 4)]
                ), f"GET /books → expected book {sent['isbn']} once, with its tags and hal's review, got {found!r}"
    (few, few_statements), (many, many_statements) = counts
    assert few_statements == many_statements, (
        f"GET /books sent {few_statements} SQL statements for {few} books and {many_statements} for {many} books;"
        " expected the same number whatever the number of books (load reviews and tags for all books at once)"
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
    assert response.status_code in (409, 422), (
        f"{describe(response)}; expected 409 Conflict (ivy reviews the book twice)"
    )
    return response


@pytest.mark.exercise("3.3", points=2)
async def test_a_refused_book_leaves_nothing_behind(client: AsyncClient) -> None:
    """POST /books with new tags and two reviews by the same reviewer → 409, and nothing of it is stored:
    GET /books shows no book with its ISBN and GET /tags no new tag."""
    tags_before = await all_tags(client)
    await refused_book(client)
    books = await all_books(client)
    leftovers = by_isbn(books, ATOMIC_ISBN)
    assert not leftovers, (
        f"POST /books {atomic_book(TWICE_BY_IVY)!r} was refused, yet GET /books lists {leftovers!r};"
        " expected nothing stored: the book, its tags and its reviews are one transaction"
    )
    tags_after = await all_tags(client)
    assert "check-atomic" not in tags_after, (
        f"after the refused POST /books, GET /tags → {tags_after!r}; expected no new tag 'check-atomic'"
        f" (before: {tags_before!r})"
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
    """GET /books?tag=X lists exactly the books tagged X, in id order, each still with all its tags
    (for X = "check-pick" and for "python"); a tag that no book carries → 200 and []."""
    await create(client, book(401, tags=["check-pick", "python"]))
    await create(client, book(402, tags=["check-other"]))
    await create(client, book(403, tags=["check-pick"]))
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
