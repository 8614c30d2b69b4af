"""The catalogue every app instance starts with: four books, five tags, four reviews."""

from sqlmodel import Session

from .models import Book, Review, Tag

TAG_NAMES = ("architecture", "async", "databases", "python", "sql")

# title, author, ISBN, year, tags, reviews as (reviewer, rating, comment)
BOOKS = (
    (
        "Tidy Tables",
        "Mara Quinn",
        "9781000000012",
        2021,
        ("databases", "sql"),
        (("ana", 5, "The chapter on indexes is worth the price."), ("ben", 4, "Clear, if a little dry.")),
    ),
    ("Async Afternoons", "Leo Park", "9781000000029", 2023, ("async", "python"), (("chen", 3, "Dense in places."),)),
    ("Schema Stories", "Ines Duarte", "9781000000036", 2019, ("databases",), ()),
    (
        "Shipping Small Services",
        "Tom Okafor",
        "9781000000043",
        2022,
        ("architecture", "python"),
        (("ana", 4, "Practical advice on splitting a codebase."),),
    ),
)


def add_seed(session: Session) -> None:
    """Add the starting rows to the session, in a fixed order so that ids are the same every time."""
    tags = {name: Tag(name=name) for name in TAG_NAMES}
    session.add_all(tags.values())
    session.flush()
    for title, author, isbn, year, tag_names, reviews in BOOKS:
        book = Book(title=title, author=author, isbn=isbn, year=year, tags=[tags[name] for name in tag_names])
        session.add(book)
        session.flush()
        session.add_all(
            Review(book_id=book.id, reviewer=reviewer, rating=rating, comment=comment)
            for reviewer, rating, comment in reviews
        )
        session.flush()
