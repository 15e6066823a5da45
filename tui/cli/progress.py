"""A progress bar on stderr for long CLI steps (demo, rebuild, snapshots)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """`bar(done, total)` redraws one stderr line at most 10 times a second.

    On a terminal it is a bar; in a pipe or CI only the final line is printed, so
    logs stay readable.
    """

    def __init__(self, label: str, out: TextIO | None = None) -> None:
        self.label = label
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.started = time.monotonic()
        self._last = 0.0
        self._done = 0
        self._total = 0

    def __call__(self, done: int, total: int) -> None:
        self._done, self._total = done, total
        now = time.monotonic()
        if self.tty and (now - self._last >= 0.1 or done >= total):
            self._last = now
            self.out.write("\r" + self._line(now) + "\x1b[K")
            self.out.flush()

    def _line(self, now: float) -> str:
        total = max(self._total, 1)
        share = min(self._done / total, 1.0)
        filled = int(share * 30)
        elapsed = now - self.started
        rate = self._done / elapsed if elapsed > 0 else 0.0
        return (
            f"{self.label:<22} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} "
            f"{self._done:,}/{self._total:,}  {rate:,.0f}/s"
        )

    def finish(self, summary: str = "") -> None:
        """End the bar's line, printing a one-line summary of what was done."""
        elapsed = time.monotonic() - self.started
        text = summary or f"{self._done:,} done"
        if self.tty:
            self.out.write("\r\x1b[K")
        self.out.write(f"{self.label}: {text} in {elapsed:.1f}s\n")
        self.out.flush()
