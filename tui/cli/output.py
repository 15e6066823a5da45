"""Plain-text CLI output: every line passes `domain.text.escape` on its way out.

A line printed here may hold stored text (a stream id in a verify report, an actor in
a simulation step, an error naming an input); escaped, no byte of it can drive the
terminal, nor break the line in two. JSON output does not come here: its own escaping
is safe.
"""

from __future__ import annotations

import sys
from typing import TextIO

from domain.text import escape


def say(line: str, file: TextIO | None = None, *, flush: bool = False) -> None:
    """Print `line` (one line, no newline inside) escaped, to stdout or `file`."""
    print(escape(line), file=file or sys.stdout, flush=flush)
