"""Injectable time and ids, so tests and demo data are deterministic."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta
from typing import Protocol

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(moment: datetime) -> str:
    """A fixed-width UTC ISO string (`...T17:11:02.123456Z`): sorts as it reads."""
    return moment.astimezone(UTC).strftime(ISO_FORMAT)


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time; a time without a zone is taken as UTC.

    Raises ValueError with a message naming the accepted forms.
    """
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO time; use e.g. 2026-03-01, 2026-03-01T14:02 or "
            "2026-03-01T14:02:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def day_span(text: str) -> tuple[str, str] | None:
    """The UTC day `text` starts with (`2026-03-01...`) as [midnight, next midnight),
    formatted; None when it starts with no date."""
    try:
        start = parse_time(text[:10])
    except ValueError:
        return None
    return format_time(start), format_time(start + timedelta(days=1))


class Clock(Protocol):
    def now(self) -> str:
        """The current UTC time as a fixed-width ISO string."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> str:
        # isoformat is ~3x faster than strftime and gives the same fixed-width text.
        return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


class StepClock:
    """A clock that starts at `start` and moves `step` forward on every read."""

    def __init__(self, start: str = "2026-01-01T09:00:00Z", step: timedelta = timedelta(seconds=1)):
        self._at = parse_time(start)
        self._step = step

    def now(self) -> str:
        current = self._at
        self._at = current + self._step
        return format_time(current)


class IdSource(Protocol):
    def new_id(self) -> str:
        """A fresh unique id."""
        ...


_VARIANT = {digit: format(int(digit, 16) & 0x3 | 0x8, "x") for digit in "0123456789abcdef"}
"""A random hex digit to the RFC 4122 variant digit (8, 9, a or b) keeping its two low bits."""
UUID_BATCH = 64
"""Ids drawn from the operating system's random source in one read."""


class UuidSource:
    """Random UUID4 ids."""

    def __init__(self) -> None:
        self._pool: list[str] = []
        """Random 32-hex-digit strings not handed out yet (list.pop is atomic: threads
        sharing the source never get the same one)."""
        self._pid = os.getpid()

    def new_id(self) -> str:
        # The same text as str(uuid.uuid4()) without building a UUID object, from one
        # os.urandom read per UUID_BATCH ids (a command makes several; a read is a
        # system call, most of the cost of an id).
        try:
            if self._pid != os.getpid():  # a forked child must not repeat its parent's ids
                raise IndexError
            h = self._pool.pop()
        except IndexError:
            h = self._refill()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"

    def _refill(self) -> str:
        self._pid = os.getpid()
        raw = os.urandom(16 * UUID_BATCH).hex()
        fresh = [raw[i : i + 32] for i in range(0, len(raw), 32)]
        self._pool = fresh  # a new list: what a parent left before a fork is never used
        return fresh.pop()


class SequentialIds:
    """Deterministic ids for tests: `<prefix>-000001`, `<prefix>-000002`, ..."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._counter):06d}"
