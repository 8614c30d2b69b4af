"""The chat's operations: functions that take the session first.

They add, change and flush, but never commit: the owner of the session (a request's
dependency, or the chat manager) ends the transaction.
"""

import json
from collections.abc import Sequence

from pwdlib import PasswordHash
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .exceptions import InvalidCredentials, InvalidMessage, UsernameTaken
from .models import Message, User
from .passwords import DUMMY_HASH
from .schemas import UserCreate

# At most this many missed messages in one server-sent event stream; the next stream resumes after them.
MAX_REPLAY = 1000
HOW_TO_SEND = 'Send a JSON object such as {"text": "hello"}'


# --- users ---------------------------------------------------------------------------------------------------------


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def register_user(session: Session, password_hash: PasswordHash, data: UserCreate) -> User:
    """Store a new user, with an Argon2 hash of the password; UsernameTaken if the name is in use."""
    if find_user(session, data.username) is not None:
        raise UsernameTaken()
    user = User(username=data.username, hashed_password=password_hash.hash(data.password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # registered by another request in the meantime
        raise UsernameTaken() from None
    return user


def authenticate(session: Session, password_hash: PasswordHash, username: str, password: str) -> User:
    """The user with this name and password; InvalidCredentials otherwise, after the same work either way."""
    user = find_user(session, username)
    hashed = user.hashed_password if user is not None else DUMMY_HASH
    if not password_hash.verify(password, hashed) or user is None:
        raise InvalidCredentials()
    return user


# --- messages ------------------------------------------------------------------------------------------------------


def check_text(text: str, max_length: int) -> str:
    """The text of a new message: not blank, at most ``max_length`` characters; InvalidMessage otherwise."""
    if not text.strip():
        raise InvalidMessage("A message needs some text")
    if len(text) > max_length:
        raise InvalidMessage(f"A message has at most {max_length} characters; this one has {len(text)}")
    return text


def parse_incoming(raw: str | None, max_length: int) -> str:
    """The text of a frame a client sent over the WebSocket.

    A frame is a text frame holding a JSON object ``{"text": "..."}``, whose text ``check_text``
    accepts. Anything else raises InvalidMessage, with a detail that says what to send.
    """
    # Exercise 13.2: Read {"text": ...} from the frame, checked by check_text; InvalidMessage for anything else
    return str(json.loads(raw or "")["text"])  # trusts the client: any error ends the connection


def store_message(session: Session, room: str, author: str, text: str) -> Message:
    """Add a message to a room; its id orders it after every message stored before."""
    message = Message(room=room, author=author, text=text)
    session.add(message)
    session.flush()
    return message


def recent_messages(session: Session, room: str, limit: int) -> Sequence[Message]:
    """The room's latest ``limit`` messages, oldest first: what a client gets when it joins."""
    # Exercise 13.1: The room's last `limit` messages (by id), returned oldest first
    return []  # no history yet


def messages_after(session: Session, room: str, after_id: int) -> Sequence[Message]:
    """The room's messages stored after the message ``after_id``, oldest first (MAX_REPLAY at most)."""
    after = select(Message).where(Message.room == room, col(Message.id) > after_id)
    return session.exec(after.order_by(col(Message.id)).limit(MAX_REPLAY)).all()
