"""The chat manager: one per app instance. It owns the connections and the stored messages,
and links this instance to the others through Redis.

A message takes one path, whichever instance its author is connected to:

1. ``send`` stores it (the database gives it its id) and publishes it on the Redis channel;
2. every instance, this one too, gets it from its subscription (``_listen``);
3. ``deliver`` sends it to that instance's own clients in the message's room.

So each client gets each message once, from the instance it is connected to.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket

from . import service
from .models import Message, User
from .schemas import MessageRead

logger = logging.getLogger(__name__)
SUBSCRIBE_TIMEOUT = 5.0  # seconds to wait for Redis to confirm the subscription
POLL_TIMEOUT = 1.0  # how long one wait for a published message lasts


class ChatManager:
    def __init__(self, engine: Engine, redis: Redis, channel: str, history_size: int) -> None:
        self.engine, self.redis, self.channel, self.history_size = engine, redis, channel, history_size
        # room → this instance's WebSockets in it, each with the id of the last message it has had.
        self.rooms: dict[str, dict[WebSocket, int]] = defaultdict(dict)
        # room → the queues of this instance's server-sent event streams on it.
        self.followers: dict[str, set[asyncio.Queue[MessageRead]]] = defaultdict(set)
        # Joining and delivering take turns: a client gets its history, then every later message once.
        self._turns = asyncio.Lock()
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None

    # --- the link to the other instances ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the channel, and start listening. Called by the lifespan, before the first client."""
        self._pubsub = self.redis.pubsub()
        await self._pubsub.subscribe(self.channel)
        # subscribe() only sends the command. Wait until Redis confirms it: a message published
        # before the subscription is in place never reaches this instance.
        async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
            while (confirmation := await self._pubsub.get_message(timeout=POLL_TIMEOUT)) is None:
                pass
        assert confirmation["type"] == "subscribe", confirmation
        self._listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
        if self._pubsub is not None:
            await self._pubsub.aclose()

    async def _listen(self) -> None:
        """Deliver every message published on the channel, by any instance, to this instance's clients."""
        assert self._pubsub is not None
        while True:
            item = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_TIMEOUT)
            if item is None or item.get("type") != "message":
                continue
            try:
                message = MessageRead.model_validate_json(item["data"])
            except ValidationError:
                continue  # not a message of this chat
            try:
                await self.deliver(message)
            except Exception:  # one failed delivery must not end the listening for every later message
                logger.exception("could not deliver message %s", message.id)

    async def send(self, room: str, author: str, text: str) -> MessageRead:
        """Store a message, then hand it to every instance through Redis. Returns it as stored."""
        message = await run_in_threadpool(self._store, room, author, text)
        # Exercise 13.3: Publish the message (as JSON) on the channel; every instance, this one too, delivers it
        await self.deliver(message)  # this instance's clients only
        return message

    # --- this instance's clients -----------------------------------------------------------------------------------

    async def join(self, room: str, websocket: WebSocket) -> None:
        """Send the room's history to a new client, then count it in: it gets every message after those."""
        async with self._turns:
            history = await self.history(room)
            await websocket.send_json({"type": "history", "room": room, "messages": [as_json(m) for m in history]})
            # Messages stored before this point are in the history: deliver skips them for this client.
            self.rooms[room][websocket] = history[-1].id if history else 0

    def leave(self, room: str, websocket: WebSocket) -> None:
        self.rooms[room].pop(websocket, None)
        if not self.rooms[room]:
            del self.rooms[room]

    async def deliver(self, message: MessageRead) -> None:
        """Send a message to this instance's clients in its room: WebSockets and event streams."""
        frame = {"type": "message", "message": as_json(message)}
        async with self._turns:
            # Exercise 13.1: Send the frame to each WebSocket in the message's room, and to no other
            for room, members in list(self.rooms.items()):
                for websocket in list(members):
                    await self._send(room, websocket, frame)
        for queue in list(self.followers.get(message.room, ())):
            queue.put_nowait(message)

    async def _send(self, room: str, websocket: WebSocket, frame: dict[str, Any]) -> None:
        """Send one frame; a client that has gone away is dropped, and the others still get theirs."""
        try:
            await websocket.send_json(frame)
        except Exception:
            self.rooms.get(room, {}).pop(websocket, None)

    @asynccontextmanager
    async def follow(self, room: str) -> AsyncIterator["asyncio.Queue[MessageRead]"]:
        """A queue that gets each message delivered to the room while the block runs (for an event stream)."""
        queue: asyncio.Queue[MessageRead] = asyncio.Queue()
        self.followers[room].add(queue)
        try:
            yield queue
        finally:
            self.followers[room].discard(queue)
            if not self.followers[room]:
                del self.followers[room]

    # --- the stored messages and users -----------------------------------------------------------------------------

    def _store(self, room: str, author: str, text: str) -> MessageRead:
        with Session(self.engine) as session:
            message = service.store_message(session, room, author, text)
            session.commit()
            return MessageRead.model_validate(message)

    def _read(self, messages: Sequence[Message]) -> list[MessageRead]:
        return [MessageRead.model_validate(message) for message in messages]

    async def history(self, room: str) -> list[MessageRead]:
        """The room's last ``history_size`` messages, oldest first."""

        def read() -> list[MessageRead]:
            with Session(self.engine) as session:
                return self._read(service.recent_messages(session, room, self.history_size))

        return await run_in_threadpool(read)

    async def messages_after(self, room: str, after_id: int) -> list[MessageRead]:
        """The room's messages after the message ``after_id``, oldest first."""

        def read() -> list[MessageRead]:
            with Session(self.engine) as session:
                return self._read(service.messages_after(session, room, after_id))

        return await run_in_threadpool(read)

    async def find_user(self, user_id: int | None) -> User | None:
        if user_id is None:
            return None

        def read() -> User | None:
            with Session(self.engine) as session:
                return session.get(User, user_id)

        return await run_in_threadpool(read)


def as_json(message: MessageRead) -> dict[str, Any]:
    return message.model_dump(mode="json")
