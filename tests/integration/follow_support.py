"""`eventscope project --follow` as a daemon in its own process, for the tests that
watch it from outside: start it, wait for a status line, stop it with Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator

from reliability_support import HANG_GUARD, LineReader, subprocess_env


@contextlib.contextmanager
def following(db: str, interval: str = "0.2") -> Iterator[tuple[subprocess.Popen[str], LineReader]]:
    """A running `project --follow` on `db` and a reader of its status lines; on a clean
    exit of the block it is stopped with SIGINT and must exit 0 (killed otherwise)."""
    daemon = subprocess.Popen(
        [sys.executable, "-m", "tui", "--db", db, "project", "--follow", "--interval", interval],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        yield daemon, LineReader(daemon.stdout)
        daemon.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        _, errors = daemon.communicate(timeout=HANG_GUARD)
        assert daemon.returncode == 0, errors
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def until(statuses: LineReader, text: str) -> str:
    """The daemon's first status line holding `text` (a hang guard, not a timing)."""
    while text not in (line := statuses.next(f"status '{text}'")):
        pass
    return line
