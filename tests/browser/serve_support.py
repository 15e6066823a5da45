"""Helpers for the `eventscope serve` process tests (a plain module: tests/ has no packages)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

WAIT_S = 60.0
"""A bound on each wait, not a measured time: a loaded machine may take long."""


def eventscope(*args: str) -> list[str]:
    """The `eventscope` command line, run by this Python."""
    return [sys.executable, "-m", "tui", *args]


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(db: Path, port: int, log: Path, *options: str) -> subprocess.Popen[bytes]:
    """`eventscope --db DB OPTIONS serve --port PORT`, output into `log`; returns once it
    listens."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            eventscope("--db", str(db), *options, "serve", "--port", str(port)),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    for _ in range(int(WAIT_S * 10)):
        if process.poll() is not None:
            raise AssertionError(f"eventscope serve ended: {log.read_text()[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("eventscope serve never listened")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the server if a test left it running."""
    if process.poll() is None:
        process.kill()
        process.wait()


def children(pid: int) -> set[int]:
    """The processes `pid` started that still run (not zombies), read from /proc."""
    found: set[int] = set()
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        found |= {int(child) for child in tasks.read_text().split()}
    return {child for child in found if alive(child)}


def alive(pid: int) -> bool:
    """Whether `pid` runs (exists and is not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
