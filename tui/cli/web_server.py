"""The web server behind `eventscope serve`: textual-serve's, made to end every app it started.

textual-serve starts one app process per browser tab (websocket) and, when it stops,
asks each to quit over its pipe, which can take a while on its own. Here the server's
shutdown (Ctrl-C or SIGTERM) sends each tab's app SIGTERM (a Textual web app quits on
it), waits for them, and kills any that did not quit. The apps are found in /proc as
this process's children running the tab command (Linux; elsewhere textual-serve's own
shutdown is all there is).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from pathlib import Path

from aiohttp import web
from textual_serve.server import Server

QUIT_WAIT_S = 10.0
"""How long the tabs' apps get to quit on shutdown before they are killed."""


class AppServer(Server):
    """textual-serve's server that ends its tabs' apps when it stops."""

    def __init__(
        self, command: str, *, host: str, port: int, public_url: str, title: str, banner: str
    ) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.banner = banner
        self.app_argv = shlex.split(command.removeprefix("exec "))

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(self.banner, markup=False, highlight=False)

    async def on_shutdown(self, app: web.Application) -> None:
        for pid in running_apps(self.app_argv):
            _signal(pid, signal.SIGTERM)
        for _ in range(int(QUIT_WAIT_S / 0.05)):
            if not running_apps(self.app_argv):
                return
            await asyncio.sleep(0.05)

    def serve(self, debug: bool = False) -> None:
        try:
            super().serve(debug=debug)
        finally:
            for pid in running_apps(self.app_argv):
                _signal(pid, signal.SIGKILL)


def running_apps(argv: list[str]) -> list[int]:
    """This process's children that run `argv` and have not ended (read from /proc)."""
    wanted = b"".join(arg.encode() + b"\0" for arg in argv)
    found = []
    for children in Path("/proc/self/task").glob("*/children"):
        try:
            pids = children.read_text().split()
        except OSError:  # the thread ended between the listing and the read
            continue
        for pid in pids:
            with contextlib.suppress(OSError):  # ended meanwhile
                status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                if status != "Z" and Path(f"/proc/{pid}/cmdline").read_bytes() == wanted:
                    found.append(int(pid))
    return found


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
