"""Unexpected errors: the traceback goes to a crash log, the terminal gets one line.

A bug must never pass for success (exit 0) nor flood an auditor's terminal with a
traceback full of local variables (some of them stored, untrusted text). It exits with
`CRASH_EXIT_CODE` and names the log, so the report can be filed with it.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path

from domain.text import escape

CRASH_EXIT_CODE = 3
"""Exit code of an unexpected error (a bug), apart from 1 (refused) and 2 (bad input)."""


def crash_folder() -> Path:
    """Where crash logs go: `$XDG_STATE_HOME/eventscope`, else `~/.local/state/eventscope`."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "eventscope"


def write_crash_log(error: BaseException) -> Path:
    """Write `error`'s traceback to a new crash log and return its path.

    Falls back to the system's temporary folder when the state folder cannot be written.
    """
    text = "".join(traceback.format_exception(error))
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = f"crash-{stamp}-{os.getpid()}.log"
    for folder in (crash_folder(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            with open(path, "x", encoding="utf-8") as log:
                log.write(text)
            return path
        except OSError:
            continue
    raise OSError("no folder to write a crash log to")


def crash_line(error: BaseException, log: Path | None) -> str:
    """The one line printed on the terminal for an unexpected error."""
    what = escape(f"{type(error).__name__}: {error}")[:200]
    where = f"the traceback is in {log}" if log else "no crash log could be written"
    return (
        f"eventscope: crashed on an unexpected error ({what}); {where}. "
        "Nothing recorded was lost: please report this with the log."
    )


def report_crash(error: BaseException) -> str:
    """Write the crash log for `error` and return the line to print."""
    try:
        log: Path | None = write_crash_log(error)
    except OSError:
        log = None
    return crash_line(error, log)
