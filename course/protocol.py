"""The one request protocol between the trusted side and the sandboxes, shared by both.

A request is one connection to a unix socket: the client sends one JSON object on one
line, ``{"op": "spawn", ...}``, and the server answers one JSON object on one line, or
``{"error": "..."}``. Lines are bounded in both directions, and the client talks only to
a socket whose peer runs as the uid it expects, so a learner who planted a link to
another socket gets no answer at all.

Servers (in ``course.sandboxed``) call ``answer``; the trusted side calls ``request``.
"""

from __future__ import annotations

import inspect
import json
import socket
import struct
from pathlib import Path
from typing import Any

MAX_LINE = 1 << 20  # a request or reply larger than this is refused


class ProtocolError(Exception):
    """The other side did not answer, answered badly, or is not who it should be."""


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    if len(line) > MAX_LINE or not line.endswith(b"\n"):
        raise ProtocolError("a line that is too long or unfinished")
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a JSON object")
    return message


def _dispatch(handler: object, message: dict[str, Any]) -> tuple[str, Any]:
    op = message.pop("op", None)
    method = getattr(handler, f"op_{op}", None) if isinstance(op, str) and op.isidentifier() else None
    if method is None:
        raise ProtocolError(f"no such operation: {op!r}")
    return op, method(**message)


def answer(line: bytes, handler: object) -> tuple[str, bytes]:
    """Run one request line on ``handler.op_<op>(**fields)``: the op, and the reply line."""
    op = ""
    try:
        op, reply = _dispatch(handler, decode(line))
    except Exception as exc:
        reply = {"error": repr(exc)[:2000]}
    return op, encode(reply)


async def answer_async(line: bytes, handler: object) -> tuple[str, bytes]:
    """``answer`` for a handler whose operations are coroutines."""
    op = ""
    try:
        op, pending = _dispatch(handler, decode(line))
        reply = await pending if inspect.isawaitable(pending) else pending
    except Exception as exc:
        reply = {"error": repr(exc)[:2000]}
    return op, encode(reply)


def serve_connection(connection: socket.socket, handler: object, timeout: float) -> str:
    """Answer the one request of an accepted connection; the op ("" when the peer only looked).

    A client that gave up, or never sent a whole line, costs the server nothing more.
    """
    op = ""
    connection.settimeout(timeout)
    try:
        with connection.makefile("rb") as reader:
            line = reader.readline(MAX_LINE + 1)
        if not line:  # a probe: the other side only looked whether the server listens
            return ""
        op, reply = answer(line, handler)
        connection.sendall(reply)
    except OSError:  # the client went away: its loss, not the server's
        pass
    return op


def peer_uid(connection: socket.socket) -> int:
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", credentials)[1])


def check_peer(connection: socket.socket, uid: int | None) -> None:
    """Refuse a socket whose other end is not ``uid`` (None: no uid to expect, as without root)."""
    if uid is not None and (found := peer_uid(connection)) != uid:
        raise PermissionError(f"the socket answered as uid {found}, not the sandbox's uid {uid}")


def request(path: str | Path, op: str, *, timeout: float, uid: int | None = None, **fields: Any) -> dict[str, Any]:
    """Send one request and return the reply; ProtocolError for no answer, a bad one, or an error."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(str(path))
            check_peer(connection, uid)
            with connection.makefile("rwb") as stream:
                stream.write(encode({"op": op, **fields}))
                stream.flush()
                reply = decode(stream.readline(MAX_LINE + 1))
    except (OSError, ProtocolError) as exc:
        raise ProtocolError(f"{op}: no answer ({exc})") from exc
    if "error" in reply:
        raise ProtocolError(f"{op} failed: {reply['error']}")
    return reply


def listening(path: str | Path, timeout: float = 5.0) -> bool:
    """Whether a server listens at ``path``: a server binds the file before it listens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return False
        except OSError:  # a path that is no socket at all: the request that follows will say so
            return True
    return True
