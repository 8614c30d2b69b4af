"""Server-sent events: a room's messages as a ``text/event-stream``.

Each message is an event whose ``id`` is the message's id. When a stream ends, the browser's
``EventSource`` reconnects by itself, after the ``retry`` the server asked for, and sends
the id of the last event it got in the ``Last-Event-ID`` header: the new stream starts
after it, so nothing is lost and nothing comes twice.
"""

import asyncio
from collections.abc import AsyncIterator

from fastapi.sse import ServerSentEvent

from .config import Settings
from .manager import ChatManager
from .schemas import MessageRead


def as_event(message: MessageRead) -> ServerSentEvent:
    """A message as an event: ``event: message``, its id as the event's ``id``, the message as JSON ``data``."""
    # Exercise 13.4: An event named "message" whose id is the message's id and whose data is the message
    return ServerSentEvent(event="message", data=message.model_dump(mode="json"))


async def missed(manager: ChatManager, room: str, last_event_id: int | None) -> list[MessageRead]:
    """What a new stream starts with: the messages after ``Last-Event-ID`` if the client sent one, else the history."""
    # Exercise 13.4: After Last-Event-ID if there is one (a reconnection); else the room's history
    return await manager.history(room)  # every stream starts from the history, resumed or not


async def room_events(
    manager: ChatManager, settings: Settings, room: str, last_event_id: int | None
) -> AsyncIterator[ServerSentEvent]:
    """The events of one stream: how soon to reconnect, the messages missed, then new ones until the stream ends."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + settings.sse_stream_seconds
    yield ServerSentEvent(retry=settings.sse_retry_ms)
    # Follow the room first, then read what is stored: a message stored in between is in both, never in neither.
    async with manager.follow(room) as live:
        last = last_event_id or 0
        for message in await missed(manager, room, last_event_id):
            yield as_event(message)
            last = max(last, message.id)
        while (left := ends - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(live.get(), left)
            except TimeoutError:
                break
            if message.id > last:  # not one of those sent already
                yield as_event(message)
                last = message.id
