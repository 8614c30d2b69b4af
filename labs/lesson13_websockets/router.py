"""Routes: ``/auth`` signs users up and in; ``/rooms`` takes messages over HTTP and streams them as
server-sent events; ``/ws/rooms/{room}`` is the chat over a WebSocket; ``/chat`` a small page that uses it."""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, WebSocket, status
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from fastapi.security import OAuth2PasswordRequestForm
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.websockets import WebSocketDisconnect

from . import service
from .dependencies import (
    CurrentUser,
    ManagerDep,
    PasswordHashDep,
    SessionDep,
    SettingsDep,
    websocket_user,
)
from .events import room_events
from .exceptions import InvalidMessage, error_responses, json_error_responses, refuse
from .models import User
from .schemas import ROOM_PATTERN, MessageCreate, MessageRead, Token, UserCreate, UserRead
from .tokens import create_access_token

auth_router = APIRouter(prefix="/auth", tags=["auth"])
rooms_router = APIRouter(prefix="/rooms", tags=["rooms"])
chat_router = APIRouter(tags=["chat"])

Room = Annotated[str, PathParam(pattern=ROOM_PATTERN, description="Lower-case letters, digits and dashes")]
LastEventId = Annotated[
    int | None,
    Header(alias="Last-Event-ID", ge=0, le=2**63 - 1, description="The id of the last event received"),
]
VALID_ROOM = re.compile(ROOM_PATTERN)
PAGE = Path(__file__).parent / "static" / "chat.html"


@auth_router.post(
    "/register", status_code=status.HTTP_201_CREATED, response_model=UserRead, responses=error_responses(409)
)
def register(data: UserCreate, session: SessionDep, password_hash: PasswordHashDep) -> User:
    """Create an account."""
    return service.register_user(session, password_hash, data)


@auth_router.post("/token", response_model=Token, responses=error_responses(401))
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    password_hash: PasswordHashDep,
    settings: SettingsDep,
) -> Token:
    """Log in with the OAuth2 password flow: an access token, for the API and the WebSocket."""
    user = service.authenticate(session, password_hash, form.username, form.password)
    assert user.id is not None
    return Token(access_token=create_access_token(user.id, settings))


@rooms_router.post(
    "/{room}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageRead,
    responses=error_responses(401, 422),
)
async def post_message(
    room: Room, data: MessageCreate, user: CurrentUser, manager: ManagerDep, settings: SettingsDep
) -> MessageRead:
    """Send a message to a room over HTTP: every client in the room gets it, on every instance."""
    text = service.check_text(data.text, settings.max_message_length)
    return await manager.send(room, user.username, text)


@rooms_router.get("/{room}/events", response_class=EventSourceResponse, responses=json_error_responses(401, 422))
async def follow_room(
    room: Room, user: CurrentUser, manager: ManagerDep, settings: SettingsDep, last_event_id: LastEventId = None
) -> AsyncIterator[ServerSentEvent]:
    """The room's messages as server-sent events: the history (or, with `Last-Event-ID`, what came after that
    event), then each new message, for `CHAT_SSE_STREAM_SECONDS`; then the browser reconnects."""
    async for event in room_events(manager, settings, room, last_event_id):
        yield event


@chat_router.websocket("/ws/rooms/{room}")
async def chat(websocket: WebSocket, room: str, manager: ManagerDep, settings: SettingsDep) -> None:
    """The chat. Connect with ``?token=<access token>``; the first frame is the room's history, then each
    message of the room as it comes. Send ``{"text": "..."}``; a bad frame gets an error frame back."""
    # Accept first, then refuse if need be. A close frame sent before accept() never reaches the
    # client: the server turns it into an HTTP 403 and the browser sees neither code nor reason.
    await websocket.accept()
    user = await websocket_user(manager, settings, websocket.query_params.get("token"))
    if not VALID_ROOM.fullmatch(room):
        raise refuse("A room name has 1 to 32 lower-case letters, digits and dashes")
    await manager.join(room, websocket)
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            try:
                text = service.parse_incoming(frame.get("text"), settings.max_message_length)
            except InvalidMessage as error:
                await websocket.send_json({"type": "error", "detail": error.detail})
                continue
            await manager.send(room, user.username, text)
    except WebSocketDisconnect:
        pass
    finally:
        manager.leave(room, websocket)


@chat_router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
async def chat_page() -> HTMLResponse:
    """A small page that logs in and chats in a room: try it in two browser tabs."""
    return HTMLResponse(PAGE.read_text(encoding="utf-8"))
