"""The user operations: functions that take the request's session first.

The services add, change and flush, but never commit: the owner of the session (the request's
dependency) ends the transaction, so one request is one transaction.
"""

from pwdlib import PasswordHash
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .exceptions import EmailTaken, InvalidCredentials
from .models import User
from .passwords import DUMMY_HASH
from .schemas import UserCreate, UserUpdate


def find_user(session: Session, email: str) -> User | None:
    """The user with this email, in any case (emails are stored lower-case), or None."""
    return session.exec(select(User).where(User.email == email.lower())).first()


def register_user(session: Session, password_hash: PasswordHash, data: UserCreate) -> User:
    """Store a new user with the default role; EmailTaken if the email is registered already."""
    # BEGIN SOLUTION 7.1: Store the user with an Argon2 hash of the password, never the password; EmailTaken if known
    if find_user(session, data.email) is not None:
        raise EmailTaken()
    user = User(email=data.email, full_name=data.full_name, hashed_password=password_hash.hash(data.password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # registered by another request in the meantime
        raise EmailTaken() from None
    return user
    # END SOLUTION


def authenticate(session: Session, password_hash: PasswordHash, email: str, password: str) -> User:
    """The user with this email and password; InvalidCredentials otherwise, after the same work either way."""
    # BEGIN SOLUTION 7.1: Verify the password, against DUMMY_HASH for an unknown email; InvalidCredentials if wrong
    user = find_user(session, email)
    # An unknown email costs one verification too, so the time taken does not tell which emails exist.
    hashed = user.hashed_password if user is not None else DUMMY_HASH
    if not password_hash.verify(password, hashed) or user is None:
        raise InvalidCredentials()
    return user
    # END SOLUTION


def update_user(session: Session, user: User, changes: UserUpdate) -> User:
    """Change the fields the client sent, and only those."""
    user.sqlmodel_update(changes.model_dump(exclude_unset=True))
    session.add(user)
    session.flush()
    return user


def delete_user(session: Session, user: User) -> None:
    session.delete(user)
    session.flush()
