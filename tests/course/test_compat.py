"""The private APIs behind course.compat still exist and still do what grading relies on."""

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpcore
import pytest

from course import compat


def test_pytest_still_has_what_check_workers_use(request: pytest.FixtureRequest) -> None:
    item = request.node
    compat.forget_report_sections(item)
    assert item._report_sections == []
    assert callable(request.session._setupstate.teardown_exact)


class Counting(httpcore.AsyncNetworkBackend):
    """httpcore's own backend that counts the connections it opens."""

    def __init__(self) -> None:
        self.inner, self.opened = httpcore.AnyIOBackend(), 0

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        self.opened += 1
        return await self.inner.connect_unix_socket(path, timeout, socket_options)


async def test_an_httpx_transport_takes_its_connections_from_our_backend(tmp_path: Path) -> None:
    import httpx

    path = tmp_path / "app.sock"

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(answer, path=str(path))
    backend = Counting()
    async with server, httpx.AsyncClient(transport=compat.unix_transport(str(path), backend)) as client:
        response = await client.get("http://testserver/")
    assert response.text == "ok" and backend.opened == 1


async def test_a_websocket_transport_opened_in_one_task_serves_and_closes_in_others() -> None:
    """A notebook opens a lab in one cell and uses and closes it in later ones: each cell is a task."""
    import httpx
    from httpx_ws import aconnect_ws

    async def echo(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo " + message["text"]})

    client = await asyncio.create_task(
        _enter(httpx.AsyncClient(transport=compat.CrossTaskWebSocketTransport(app=echo), base_url="http://testserver"))
    )

    async def use() -> str:
        async with aconnect_ws("/ws", client) as websocket:
            await websocket.send_text("hi")
            return str(await asyncio.wait_for(websocket.receive_text(), 5))

    assert await asyncio.create_task(use()) == "echo hi"
    assert (await asyncio.create_task(client.get("/"))).text == "ok"
    await asyncio.create_task(client.__aexit__(None, None, None))
    assert client.is_closed


async def _enter(client: Any) -> Any:
    return await client.__aenter__()
