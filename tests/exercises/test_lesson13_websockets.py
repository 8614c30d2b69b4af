"""Graded checks for lesson 13: a chat over WebSockets, across app instances through Redis, and server-sent events.

Every check talks to the app as its clients do: over HTTP to register and log in
(``/auth/register``, ``/auth/token``), over a WebSocket to chat (``/ws/rooms/{room}?token=...``),
and over HTTP for server-sent events (``/rooms/{room}/events``). Every receive has a timeout,
so an app that never answers fails a check instead of hanging it. A check that runs two
instances of the app opens both on the same database and Redis, as a deployment would.

The frames the server sends are JSON: ``{"type": "history", "messages": [...]}`` first, then
``{"type": "message", "message": {...}}`` for each new message, and ``{"type": "error",
"detail": "..."}`` for a frame it refuses. A client sends ``{"text": "..."}``.

The check gives the app its own secret (``CHAT_SECRET_KEY``), so it can forge the tokens an
attacker would send: expired, unsigned, or signed with another key.
"""

import base64
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import jwt
import pytest
from httpx import AsyncClient
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, WebSocketUpgradeError, aconnect_ws

from course.pytest_plugin import LabFactory

from .expect import describe, expect_json, isolated_settings

hermetic_settings = isolated_settings("CHAT_")

# The check's own secret: long enough for HS256, and known to the check.
CHECK_SECRET = "check-secret-of-lesson-13-0123456789-abcdefghijklmnop"
PASSWORD = "correct horse battery staple"
RECEIVE = 3.0  # seconds to wait for a frame that must come
POLICY_VIOLATION = 1008


def chat(lab: LabFactory, **env: str) -> Any:
    """The lab with the check's secret, a cheap Argon2 (hashing is not what these checks are about), and ``env``."""
    return opened(lab, {"CHAT_SECRET_KEY": CHECK_SECRET, "CHAT_FAST_PASSWORD_HASH": "true", **env})


def _single(group: BaseExceptionGroup[Any]) -> BaseException | None:
    """The one exception inside nested groups of one, if that is what the group holds."""
    inner: BaseException = group
    while isinstance(inner, BaseExceptionGroup):
        if len(inner.exceptions) != 1:
            return None
        inner = inner.exceptions[0]
    return inner


@asynccontextmanager
async def opened(lab: LabFactory, env: Mapping[str, str]) -> AsyncIterator[AsyncClient]:
    """``lab(env=env)``; a check that fails inside reports its own message, not an exception group around it."""
    try:
        async with lab(env=env) as client:
            yield client
    except BaseExceptionGroup as group:
        inner = _single(group)
        if isinstance(inner, Exception):
            raise inner from None
        raise


async def sign_up(client: AsyncClient, username: str) -> str:
    """Register ``username`` and log in: its access token."""
    registered = await client.post("/auth/register", json={"username": username, "password": PASSWORD})
    expect_json(registered, 201, f"(registering {username})")
    response = await client.post("/auth/token", data={"username": username, "password": PASSWORD})
    body = expect_json(response, 200, f"(logging in as {username})")
    assert isinstance(body, dict) and isinstance(body.get("access_token"), str), f"{describe(response)}; no token"
    return str(body["access_token"])


def claims_of(token: str) -> dict[str, Any]:
    claims = jwt.decode(token, options={"verify_signature": False})
    assert isinstance(claims, dict), f"the access token's claims are not an object: {claims!r}"
    return claims


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(claims: Mapping[str, Any], key: str = CHECK_SECRET) -> str:
    """A token signed with the check's secret, as only the app (or someone holding its secret) can sign."""
    return jwt.encode(dict(claims), key, algorithm="HS256")


def where(room: str, token: str | None) -> str:
    return f"http://testserver/ws/rooms/{room}" + (f"?token={token}" if token is not None else "")


def shown(url: str) -> str:
    """The URL as a message shows it: a token is long and says nothing to a reader."""
    path, _, query = url.partition("?")
    return path.removeprefix("http://testserver") + ("?token=…" if query else "")


# --- WebSocket clients -----------------------------------------------------------------------------------------------


@dataclass
class Member:
    """A client in a room: its socket, who it is, and the history it got when it joined."""

    socket: AsyncWebSocketSession
    name: str
    room: str
    history: list[dict[str, Any]] = field(default_factory=list)

    async def frame(self, what: str) -> dict[str, Any]:
        """The next frame, parsed, within RECEIVE seconds."""
        try:
            text = await self.socket.receive_text(timeout=RECEIVE)
        except TimeoutError:
            raise AssertionError(f"{self.name} in {self.room} waited {RECEIVE:g} s for {what}; nothing came") from None
        except WebSocketDisconnect as closed:
            raise AssertionError(
                f"{self.name} in {self.room} waited for {what}; the server closed the connection instead"
                f" ({closed.code} {closed.reason!r})"
            ) from None
        try:
            frame = json.loads(text)
        except ValueError:
            raise AssertionError(f"{self.name} in {self.room} got {text[:200]!r}; expected a JSON frame") from None
        assert isinstance(frame, dict), f"{self.name} in {self.room} got {text[:200]!r}; expected a JSON object"
        return frame

    async def message(self, what: str) -> dict[str, Any]:
        """The next frame, which must be a message: ``{"type": "message", "message": {...}}``; the message."""
        frame = await self.frame(what)
        message = frame.get("message")
        assert frame.get("type") == "message" and isinstance(message, dict), (
            f"{self.name} in {self.room} got {frame}; expected {what}, a frame"
            ' {"type": "message", "message": {"id", "room", "author", "text", ...}}'
        )
        return message

    async def expect(self, author: str, text: str, what: str = "") -> dict[str, Any]:
        """The next message is ``text`` by ``author``, in this room; nothing else comes before it."""
        wanted = f"{author}'s {text!r}{' ' + what if what else ''}"
        message = await self.message(wanted)
        got = {key: message.get(key) for key in ("author", "text", "room")}
        assert got == {"author": author, "text": text, "room": self.room}, (
            f"{self.name} in {self.room} got the message {message}; expected {wanted} next"
        )
        assert isinstance(message.get("id"), int), f"{self.name} got the message {message}; expected an integer `id`"
        return message

    async def say(self, text: str) -> None:
        await self.socket.send_text(json.dumps({"text": text}))


@asynccontextmanager
async def joined(client: AsyncClient, room: str, token: str, name: str) -> AsyncIterator[Member]:
    """A client in ``room``, once it has had its first frame, the room's history."""
    url = where(room, token)
    try:
        async with aconnect_ws(url, client) as socket:
            member = Member(socket, name, room)
            first = await member.frame("the room's history, the first frame")
            messages = first.get("messages")
            assert first.get("type") == "history" and isinstance(messages, list), (
                f"{name} joined {room} and got {first} first; expected"
                ' {"type": "history", "messages": [...]}, the room\'s latest messages'
            )
            member.history = messages
            yield member
    except BaseExceptionGroup as group:
        inner = _single(group)
        if isinstance(inner, Exception):
            raise inner from None
        raise
    except WebSocketDisconnect as closed:
        raise AssertionError(
            f"{name} could not join {room}: closed with {closed.code} {closed.reason!r} before accepting"
        ) from None
    except WebSocketUpgradeError as refused:
        raise AssertionError(
            f"{name} could not join {room}: the handshake got {refused.response.status_code}"
        ) from None


async def closing_of(client: AsyncClient, url: str) -> tuple[int, str]:
    """How the server ends a connection it refuses: its close code and reason, sent after accepting."""
    try:
        async with aconnect_ws(url, client) as socket:
            try:
                text = await socket.receive_text(timeout=RECEIVE)
            except TimeoutError:
                raise AssertionError(
                    f"WebSocket {shown(url)} → accepted, and nothing came within {RECEIVE:g} s; expected the server"
                    f" to close the connection with {POLICY_VIOLATION} and a JSON reason"
                ) from None
            except WebSocketDisconnect as closed:
                return int(closed.code), str(closed.reason or "")
            raise AssertionError(
                f"WebSocket {shown(url)} → accepted, then the frame {text[:200]!r}; expected the server to close"
                f" the connection with {POLICY_VIOLATION} and a JSON reason"
            )
    except BaseExceptionGroup as group:
        inner = _single(group)
        if isinstance(inner, WebSocketDisconnect):
            return int(inner.code), str(inner.reason or "")
        if isinstance(inner, Exception):
            raise inner from None
        raise
    except WebSocketDisconnect as closed:  # in-process: closed before accept
        raise AssertionError(
            f"WebSocket {shown(url)} → closed with {closed.code} before the server accepted it; expected accept,"
            f" then close with {POLICY_VIOLATION}: a close sent before accept reaches a browser as a failed"
            " handshake (HTTP 403), without its code or reason"
        ) from None
    except WebSocketUpgradeError as refused:  # behind a server: the handshake itself was refused
        raise AssertionError(
            f"WebSocket {shown(url)} → the handshake got HTTP {refused.response.status_code}"
            f" {refused.response.text[:200]!r}; expected accept, then close with {POLICY_VIOLATION} and a JSON"
            " reason: a browser sees neither code nor reason of a refused handshake"
        ) from None


async def expect_refused(client: AsyncClient, room: str, token: str | None, what: str) -> None:
    """Connecting with ``token`` is accepted, then closed with 1008 and a reason that is JSON with a ``detail``."""
    url = where(room, token)
    code, reason = await closing_of(client, url)
    assert code == POLICY_VIOLATION, (
        f"WebSocket {shown(url)} with {what} → closed with {code} {reason!r}; expected {POLICY_VIOLATION}"
        " (policy violation). 1011 or 1006 mean an exception escaped the route."
    )
    try:
        body = json.loads(reason)
    except ValueError:
        body = None
    assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"], (
        f"WebSocket {shown(url)} with {what} → closed with {code} and the reason {reason!r}; expected JSON"
        ' such as {"detail": "..."}, which the page can show'
    )


# --- 13.1: rooms, broadcast, and history on join ---------------------------------------------------------------------


@pytest.mark.exercise("13.1", points=2)
async def test_a_message_reaches_everyone_in_its_room_and_nobody_else(lab: LabFactory) -> None:
    """ada and bob in room `general`, carol in `random`. ada sends {"text": ...} → ada and bob each get it
    as {"type": "message", "message": {"id", "room", "author": "ada", "text", ...}}; carol does not: the next
    message carol gets is her own, sent in `random` after ada's."""
    async with chat(lab) as client:
        ada, bob, carol = [await sign_up(client, name) for name in ("ada", "bob", "carol")]
        async with (
            joined(client, "general", ada, "ada") as in_general,
            joined(client, "general", bob, "bob") as also_in_general,
            joined(client, "random", carol, "carol") as in_random,
        ):
            await in_general.say("hello general")
            await in_general.expect("ada", "hello general", "(her own message comes back to her)")
            await also_in_general.expect("ada", "hello general")
            await in_random.say("hello random")
            await in_random.expect("carol", "hello random", "(ada's message was for general only)")
            await in_general.say("still general")
            await also_in_general.expect("ada", "still general", "(carol's message was for random only)")


async def expect_history(client: AsyncClient, token: str, expected: list[str], what: str) -> None:
    """bob joins `general`: his history is ``expected``, in the order sent."""
    async with joined(client, "general", token, "bob") as newcomer:
        texts = [message.get("text") if isinstance(message, dict) else message for message in newcomer.history]
        assert texts == expected, (
            f"bob joined general {what} (ada's in general, carol's 'elsewhere' in random), with CHAT_HISTORY_SIZE=3"
            f" → history {texts}; expected {expected}: the room's last 3 messages, oldest first"
        )
        ids = [message.get("id") for message in newcomer.history]
        assert ids == sorted(ids), f"bob's history has the ids {ids}; expected them in the order sent"


@pytest.mark.exercise("13.1", points=2)
async def test_a_new_member_gets_the_last_n_messages_of_the_room_oldest_first(lab: LabFactory) -> None:
    """With CHAT_HISTORY_SIZE=3: after 3 messages in `general` (and one in `random`), a client joining `general`
    gets the 3, oldest first, as its first frame {"type": "history", "messages": [...]}; after a 4th, a new
    client gets the last 3, the oldest dropped. Then it gets each new message once."""
    async with chat(lab, CHAT_HISTORY_SIZE="3") as client:
        ada, bob, carol = [await sign_up(client, name) for name in ("ada", "bob", "carol")]
        async with joined(client, "general", ada, "ada") as author, joined(client, "random", carol, "carol") as other:
            for text in ("one", "two"):
                await author.say(text)
                await author.expect("ada", text)
            await other.say("elsewhere")
            await other.expect("carol", "elsewhere")
            await author.say("three")
            await author.expect("ada", "three")
            await expect_history(client, bob, ["one", "two", "three"], "after three messages")
            await author.say("four")
            await author.expect("ada", "four")
            await expect_history(client, bob, ["two", "three", "four"], "after a fourth, the oldest dropped")
            async with joined(client, "general", bob, "bob") as newcomer:
                await author.say("five")
                await newcomer.expect("ada", "five", "(a message sent after bob joined, once)")
                await author.expect("ada", "five")
                await author.say("six")
                await newcomer.expect("ada", "six", "(after 'five', once)")


# --- 13.2: authentication and errors ---------------------------------------------------------------------------------


@pytest.mark.exercise("13.2", points=2)
async def test_a_connection_without_a_valid_token_is_closed_with_1008_and_a_json_reason(lab: LabFactory) -> None:
    """Connecting to /ws/rooms/general without ?token=, with a token that is no JWT, with a valid token whose
    signature was changed, one signed with another secret, and one with "alg": "none" → each is accepted, then
    closed with code 1008 and a reason that is JSON, {"detail": "..."}; never an HTML page, never 1011.
    A valid token joins."""
    async with chat(lab) as client:
        token = await sign_up(client, "ada")
        claims = claims_of(token)
        signing_input, signature = token.rsplit(".", 1)
        flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
        unsigned = f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}."
        await expect_refused(client, "general", None, "no token")
        await expect_refused(client, "general", "not-a-jwt", "a token that is no JWT")
        await expect_refused(client, "general", f"{signing_input}.{flipped}", "a token whose signature was changed")
        await expect_refused(client, "general", forged(claims, CHECK_SECRET[::-1]), "a token signed with another key")
        await expect_refused(client, "general", unsigned, 'a token with "alg": "none" and no signature')
        async with joined(client, "general", token, "ada"):
            pass


@pytest.mark.exercise("13.2", points=1)
async def test_an_expired_token_is_closed_with_1008(lab: LabFactory) -> None:
    """A token whose `exp` has passed (the app's own claims, signed with its secret) → accepted, then closed with
    1008 and a JSON reason; the same claims with an `exp` still to come join."""
    async with chat(lab) as client:
        token = await sign_up(client, "ada")
        now = int(time.time())
        claims = claims_of(token)
        await expect_refused(
            client, "general", forged({**claims, "iat": now - 20, "exp": now - 10}), "an expired token"
        )
        async with joined(client, "general", forged({**claims, "iat": now, "exp": now + 600}), "ada"):
            pass


async def expect_error_frame(member: Member, sent: str) -> None:
    frame = await member.frame(f"an error frame for {sent}")
    assert frame.get("type") == "error" and isinstance(frame.get("detail"), str) and frame["detail"], (
        f'{member.name} sent {sent} and got {frame}; expected {{"type": "error", "detail": "..."}} back'
    )


@pytest.mark.exercise("13.2", points=2)
async def test_a_frame_that_is_no_message_gets_an_error_frame_and_the_connection_stays_open(lab: LabFactory) -> None:
    """Sending a frame that is not JSON, JSON that is no object, an object without `text`, a `text` that is not
    a string, an empty `text`, or a binary frame → {"type": "error", "detail": "..."} to the sender, and the
    connection stays open: a valid message sent after all of them is broadcast."""
    async with chat(lab) as client:
        ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
        async with joined(client, "general", ada, "ada") as sender, joined(client, "general", bob, "bob") as other:
            for raw in ("hello", '["text"]', '{"message": "hi"}', '{"text": 5}', '{"text": ""}'):
                await sender.socket.send_text(raw)
                await expect_error_frame(sender, f"the text frame {raw!r}")
            await sender.socket.send_bytes(b'{"text": "as bytes"}')
            await expect_error_frame(sender, "a binary frame")
            await sender.say("after the errors")
            await sender.expect("ada", "after the errors", "(the connection stays open after an error)")
            await other.expect("ada", "after the errors", "(the errors went to ada only)")


@pytest.mark.exercise("13.2", points=1)
async def test_messages_have_at_most_the_configured_length(lab: LabFactory) -> None:
    """With CHAT_MAX_MESSAGE_LENGTH=10: a `text` of 10 characters is broadcast; one of 11 gets an error frame;
    one of 1 character is broadcast after it."""
    async with chat(lab, CHAT_MAX_MESSAGE_LENGTH="10") as client:
        ada = await sign_up(client, "ada")
        async with joined(client, "general", ada, "ada") as sender:
            await sender.say("x" * 10)
            await sender.expect("ada", "x" * 10, "(10 characters, the longest allowed)")
            await sender.say("y" * 11)
            await expect_error_frame(sender, "a text of 11 characters, with CHAT_MAX_MESSAGE_LENGTH=10")
            await sender.say("z")
            await sender.expect("ada", "z", "(1 character)")


# --- 13.3: across instances, through Redis ---------------------------------------------------------------------------


@pytest.mark.exercise("13.3", points=2)
async def test_a_message_crosses_to_the_other_instance_exactly_once(lab: LabFactory) -> None:
    """Two instances, A and B. ada on A and bob on B, both in `general`. ada's message reaches ada and bob,
    once each: the next message either gets is bob's reply, and after that, ada's next one."""
    async with chat(lab) as first, chat(lab) as second:
        ada, bob = await sign_up(first, "ada"), await sign_up(first, "bob")
        async with joined(first, "general", ada, "ada") as on_a, joined(second, "general", bob, "bob") as on_b:
            await on_a.say("from A")
            await on_a.expect("ada", "from A", "(her own message, through Redis)")
            await on_b.expect("ada", "from A", "(sent on instance A, bob is on B)")
            await on_b.say("from B")
            await on_a.expect("bob", "from B", "(sent on B); a second 'from A' first means ada got it twice")
            await on_b.expect("bob", "from B")
            await on_a.say("again from A")
            await on_b.expect("ada", "again from A", "(sent on A); a second 'from B' first means bob got it twice")
            await on_a.expect("ada", "again from A")


@pytest.mark.exercise("13.3", points=1)
async def test_rooms_stay_separate_across_instances(lab: LabFactory) -> None:
    """ada on A in `general`; bob on B in `general`, carol on B in `random`, dan on A in `random`. ada's message
    reaches bob; carol's next message is dan's, sent in `random` on A after ada's, never ada's."""
    async with chat(lab) as first, chat(lab) as second:
        ada, bob, carol, dan = [await sign_up(first, name) for name in ("ada", "bob", "carol", "dan")]
        async with (
            joined(first, "general", ada, "ada") as ada_on_a,
            joined(second, "general", bob, "bob") as bob_on_b,
            joined(second, "random", carol, "carol") as carol_on_b,
            joined(first, "random", dan, "dan") as dan_on_a,
        ):
            await ada_on_a.say("general news")
            await bob_on_b.expect("ada", "general news", "(sent on A)")
            await ada_on_a.expect("ada", "general news")
            await dan_on_a.say("random chat")
            await carol_on_b.expect("dan", "random chat", "(sent in random on A; ada's was for general)")
            await dan_on_a.expect("dan", "random chat", "(ada's message was for general)")


@pytest.mark.exercise("13.3", points=1)
async def test_a_message_posted_over_http_reaches_websockets_on_every_instance(lab: LabFactory) -> None:
    """POST /rooms/general/messages {"text": ...} with a bearer token on instance B → 201 with the message; ada on
    A and bob on B, in `general`, each get it once."""
    async with chat(lab) as first, chat(lab) as second:
        ada, bob = await sign_up(first, "ada"), await sign_up(first, "bob")
        async with joined(first, "general", ada, "ada") as on_a, joined(second, "general", bob, "bob") as on_b:
            response = await second.post(
                "/rooms/general/messages", json={"text": "posted"}, headers={"Authorization": f"Bearer {bob}"}
            )
            expect_json(response, 201, "(a message sent over HTTP)")
            await on_a.expect("bob", "posted", "(posted on B)")
            await on_b.expect("bob", "posted", "(posted on B)")
            await on_a.say("then")
            await on_b.expect("ada", "then", "(a second 'posted' first means bob got it twice)")
            await on_a.expect("ada", "then", "(a second 'posted' first means ada got it twice)")


# --- 13.4: server-sent events ----------------------------------------------------------------------------------------


def events_of(response: httpx.Response) -> list[dict[str, str]]:
    """The events of a ``text/event-stream`` body: each a dict of its fields (``data`` lines joined)."""
    events: list[dict[str, str]] = []
    for block in response.text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = f"{fields[name]}\n{value}" if name == "data" and name in fields else value
        if fields:
            events.append(fields)
    return events


async def post(client: AsyncClient, token: str, room: str, text: str) -> dict[str, Any]:
    response = await client.post(
        f"/rooms/{room}/messages", json={"text": text}, headers={"Authorization": f"Bearer {token}"}
    )
    message = expect_json(response, 201, "(a message sent over HTTP)")
    assert isinstance(message, dict) and isinstance(message.get("id"), int), f"{describe(response)}; expected an id"
    return message


async def stream(client: AsyncClient, token: str, room: str, last_event_id: int | None = None) -> list[dict[str, Any]]:
    """GET /rooms/{room}/events until the stream ends; its message events as (id, message)."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    response = await client.get(f"/rooms/{room}/events", params={"token": token}, headers=headers)
    expect_json_free(response)
    found = []
    for event in events_of(response):
        if "data" not in event:
            continue  # the retry hint, a comment
        assert event.get("event") == "message", f"{describe(response)}; expected each message as `event: message`"
        try:
            data = json.loads(event["data"])
        except ValueError:
            raise AssertionError(
                f"{describe(response)}; expected each event's data to be the message as JSON"
            ) from None
        found.append({"id": event.get("id"), "text": data.get("text") if isinstance(data, dict) else None})
    return found


def expect_json_free(response: httpx.Response) -> None:
    assert response.status_code == 200 and response.headers.get("content-type", "").startswith("text/event-stream"), (
        f"{describe(response)}; expected 200 with Content-Type: text/event-stream"
    )


def expected_events(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": str(message["id"]), "text": message["text"]} for message in messages]


SHORT_STREAMS = {"CHAT_SSE_STREAM_SECONDS": "0.3"}


@pytest.mark.exercise("13.4", points=1)
async def test_a_stream_starts_with_the_history_each_event_with_the_message_id(lab: LabFactory) -> None:
    """With streams of 0.3 s: after 3 messages in `general` (and one in `random` before them), GET
    /rooms/general/events?token=... → 200 text/event-stream, the 3 as `event: message`, each with `id:` the
    message's id and `data:` the message as JSON, oldest first; then the stream ends."""
    async with chat(lab, **SHORT_STREAMS) as client:
        ada = await sign_up(client, "ada")
        await post(client, ada, "random", "elsewhere")
        sent = [await post(client, ada, "general", text) for text in ("one", "two", "three")]
        got = await stream(client, ada, "general")
        assert got == expected_events(sent), (
            f"GET /rooms/general/events after {[m['text'] for m in sent]} with ids {[m['id'] for m in sent]}"
            f" → events {got}; expected {expected_events(sent)}: each message with its own id as the event id"
        )


@pytest.mark.exercise("13.4", points=2)
async def test_last_event_id_resumes_after_that_event(lab: LabFactory) -> None:
    """Streams of 0.3 s, messages one to four in `general`. With `Last-Event-ID` the id of two → three and four;
    of one → two, three and four; of four → no message; of 0 → all four. Never the event named, nor `random`'s."""
    async with chat(lab, **SHORT_STREAMS) as client:
        ada = await sign_up(client, "ada")
        sent = []
        for text in ("one", "two", "three", "four"):
            sent.append(await post(client, ada, "general", text))
            await post(client, ada, "random", f"{text} elsewhere")
        for last, expected in ((sent[1]["id"], sent[2:]), (sent[0]["id"], sent[1:]), (sent[3]["id"], []), (0, sent)):
            got = await stream(client, ada, "general", last_event_id=last)
            assert got == expected_events(expected), (
                f"GET /rooms/general/events with Last-Event-ID: {last} (the ids of one to four: "
                f"{[m['id'] for m in sent]}) → events {got}; expected {expected_events(expected)}, the messages"
                " after that event only"
            )


@pytest.mark.exercise("13.4", points=1)
async def test_a_stream_carries_new_messages_as_they_come(lab: LabFactory) -> None:
    """With streams of 1 s: GET /rooms/general/events with `Last-Event-ID` the id of the latest message; a message
    posted 0.2 s later is in that stream, once, with its id."""
    async with chat(lab, CHAT_SSE_STREAM_SECONDS="1") as client:
        ada = await sign_up(client, "ada")
        latest = await post(client, ada, "general", "before")
        got: list[dict[str, Any]] = []
        posted: list[dict[str, Any]] = []

        async def follow() -> None:
            got.extend(await stream(client, ada, "general", last_event_id=latest["id"]))

        async def send_later() -> None:
            await anyio.sleep(0.2)
            posted.append(await post(client, ada, "general", "live"))

        async with anyio.create_task_group() as group:
            group.start_soon(follow)
            group.start_soon(send_later)
        assert got == expected_events(posted), (
            f"GET /rooms/general/events with Last-Event-ID: {latest['id']}, and 0.2 s later a new message"
            f" {posted} → events {got}; expected {expected_events(posted)}: a new message is sent on open streams"
        )
