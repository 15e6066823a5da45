"""A progress bar on stderr for long CLI steps (demo, rebuild, snapshots, import)."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


class ProgressBar:
    """`bar(done, total)` redraws one stderr line at most 10 times a second.

    On a terminal it is a bar; in a pipe or CI only the final line is printed, so
    logs stay readable. `share` (0 to 1) fills the bar where the count's total is not
    known (an import's events, from the bytes of the file read); with neither, only
    the count and its rate are drawn.
    """

    def __init__(self, label: str, out: TextIO | None = None) -> None:
        self.label = label
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.started = time.monotonic()
        self._last = 0.0
        self._done = 0
        self._total = 0
        self._share: float | None = None

    def __call__(self, done: int, total: int, share: float | None = None) -> None:
        self._done, self._total, self._share = done, total, share
        now = time.monotonic()
        if self.tty and (now - self._last >= 0.1 or 0 < total <= done):
            self._last = now
            # Cut to the terminal's width: a wrapped line would not be redrawn in place.
            self.out.write("\r" + self._line(now)[: self._width()] + "\x1b[K")
            self.out.flush()

    def _width(self) -> int | None:
        """The terminal's columns less one (None when they cannot be known)."""
        try:
            return max(os.get_terminal_size(self.out.fileno()).columns - 1, 1)
        except (OSError, AttributeError, ValueError):
            return None

    def _line(self, now: float) -> str:
        elapsed = now - self.started
        rate = self._done / elapsed if elapsed > 0 else 0.0
        count = f"{self._done:,}/{self._total:,}" if self._total > 0 else f"{self._done:,}"
        if self._total > 0:
            share: float | None = self._done / self._total
        else:
            share = self._share
        if share is None:
            return f"{self.label:<22} {count}  {rate:,.0f}/s"
        share = min(max(share, 0.0), 1.0)
        filled = int(share * 30)
        return (
            f"{self.label:<22} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} "
            f"{count}  {rate:,.0f}/s"
        )

    def clear(self) -> None:
        """Take the bar's line away (the step failed: its error line comes next)."""
        if self.tty and self._last:
            self.out.write("\r\x1b[K")
            self.out.flush()

    def finish(self, summary: str = "") -> None:
        """End the bar's line, printing a one-line summary of what was done."""
        elapsed = time.monotonic() - self.started
        text = summary or f"{self._done:,} done"
        if self.tty:
            self.out.write("\r\x1b[K")
        self.out.write(f"{self.label}: {text} in {elapsed:.1f}s\n")
        self.out.flush()
