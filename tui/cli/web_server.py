"""The web server behind `eventscope serve`: textual-serve's, made to stop every app it started.

textual-serve starts one app process per browser tab (websocket). On Ctrl-C or SIGTERM
it stops serving; here its shutdown also asks each tab's app to quit, waits for it, and
as a last resort kills an app process that did not quit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.server import Server

QUIT_WAIT_S = 10.0
"""How long the tabs' apps get to quit on shutdown before they are killed."""


class AppServer(Server):
    """textual-serve's server that knows its tabs and ends them when it stops."""

    def __init__(
        self, command: str, *, host: str, port: int, public_url: str, title: str, banner: str
    ) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.banner = banner
        self._tabs: set[asyncio.Task[Any]] = set()

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(self.banner, markup=False, highlight=False)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        tab = asyncio.current_task()
        assert tab is not None
        self._tabs.add(tab)
        try:
            return await super().handle_websocket(request)
        finally:
            self._tabs.discard(tab)

    async def on_shutdown(self, app: web.Application) -> None:
        # A cancelled tab handler asks its app to quit and waits for it (textual-serve's
        # `AppService.stop`); the apps quit side by side.
        tabs = list(self._tabs)
        for tab in tabs:
            tab.cancel()
        if tabs:
            await asyncio.wait(tabs, timeout=QUIT_WAIT_S)

    def serve(self, debug: bool = False) -> None:
        try:
            super().serve(debug=debug)
        finally:
            kill_children(shlex.split(self.command.removeprefix("exec ")))


def kill_children(argv: list[str]) -> None:
    """SIGKILL each process this one started to run `argv` that is still there (Linux, read
    from /proc; elsewhere the graceful quit above is all there is)."""
    wanted = "\0".join(argv).encode() + b"\0"
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            with contextlib.suppress(OSError):  # gone meanwhile
                if Path(f"/proc/{pid}/cmdline").read_bytes() == wanted:
                    os.kill(int(pid), signal.SIGKILL)
