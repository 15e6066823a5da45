"""`eventscope serve` as a process: SIGINT or SIGTERM ends the server and every app it
started. The tabs are plain websocket clients here (the browser test uses Chromium)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from serve_support import WAIT_S, alive, children, eventscope, free_port, start_server, stop

pytest.importorskip("textual_serve", reason="pip install 'eventscope[serve]'")


async def _open_tab(url: str) -> tuple[Any, Any]:
    """A browser tab as the server sees it: a websocket; its app process starts for it."""
    import aiohttp

    session = aiohttp.ClientSession()
    websocket = await session.ws_connect(f"{url}/ws?width=100&height=30")
    await websocket.receive()  # the app has started: its first bytes arrive
    return session, websocket


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="counts processes in /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_signal_stops_the_server_and_every_app(tmp_path: Path, signum: int) -> None:
    db = tmp_path / "bank.db"
    proc = await asyncio.create_subprocess_exec(*eventscope("--db", str(db), "init"))
    assert await proc.wait() == 0
    port = free_port()
    server = start_server(db, port, tmp_path / "serve.log")
    tabs = []
    try:
        for _ in range(2):
            tabs.append(await _open_tab(f"http://127.0.0.1:{port}"))
        apps = children(server.pid)
        assert len(apps) == 2, "one app process per tab"
        server.send_signal(signum)
        assert await asyncio.to_thread(server.wait, WAIT_S) == 0
        assert not {pid for pid in apps if alive(pid)}, "an app outlived the server"
    finally:
        stop(server)
        for session, websocket in tabs:
            await websocket.close()
            await session.close()
