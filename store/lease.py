"""The projector's lease: which one of many projectors may write a read model.

One row per read model in `projector_lease(name, owner, expires_at)`. A projector
takes the lease when there is none or the holder's has lapsed, and renews it inside
each of its write transactions, so "am I still the holder?" is checked under the
same write lock as the write it guards: two projectors never both write, even when
one stalls past its lease and another takes over. A holder that dies stops renewing,
and its lease lapses `seconds` later. Times are seconds since the epoch from an
injectable clock; processes on one machine share it. A lease written by a clock far
ahead (its expiry further away than its own duration, `seconds`) is stale, and a
follower looks again every quarter lease, so it notices a clean release soon.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Final

_SELECT: Final = "SELECT owner, expires_at FROM projector_lease WHERE name = ?"
# `seconds` (schema step 9): how long the holder's lease runs; NULL from older writers.
_SELECT_HOLDER: Final = "SELECT owner, expires_at, seconds FROM projector_lease WHERE name = ?"

CLOCK_SLACK: Final = 1.0
"""Seconds a lease's expiry may lie beyond a full lease from now and still count
(clocks of processes on one machine agree; this covers rounding and slow starts)."""

FOLLOWER_LOOK: Final = 0.25
"""A follower looks at the lease row again after this fraction of a lease at most."""

Transaction = Callable[[str], AbstractContextManager[sqlite3.Connection]]
"""`transaction(action)`: a write transaction on the caller's connection."""
Reader = Callable[[str, tuple[str]], list[tuple[str, float, float | None]]]
"""`read(sql, params)`: rows of a query on the caller's connection, outside transactions."""


class LeaseLost(Exception):
    """Another projector holds the lease now: roll back, and stop writing."""


class Lease:
    """This projector's view of the lease of read model `name`."""

    def __init__(
        self,
        name: str,
        owner: str,
        seconds: float,
        clock: Callable[[], float],
        transaction: Transaction,
        read: Reader,
    ) -> None:
        self.name = name
        self.owner = owner
        self.seconds = seconds
        self._clock = clock
        self._transaction = transaction
        self._read = read
        self.held = False
        """True while we hold it, as far as we last saw."""
        self.expires_at = 0.0
        """When our lease lapses unless renewed."""
        self.holder: str | None = None
        """Who held it when we last looked."""
        self._holder_until = 0.0

    def hold(self) -> bool:
        """Take the lease, or renew it when half of it has run; True when we hold it.

        Cheap when nothing is due: no query while our lease is fresh, or while the
        other holder's lease (as last seen) still runs.
        """
        now = self._clock()
        if self.held:
            if now < self.expires_at - self.seconds / 2:
                return True
            try:
                with self._transaction("renew the projector lease") as conn:
                    self.renew(conn)
            except LeaseLost:
                self.lost()
                return False
            return True
        if now < self._holder_until:
            return False
        return self._take()

    def _held_by_another(self, row: tuple[str, float, float | None] | None, now: float) -> bool:
        """True when `row` is another projector's live lease.

        A lease lapses at its `expires_at`; one that lies further ahead than it runs
        (its own `seconds`, ours for a row without one, plus `CLOCK_SLACK`) was
        written by a clock running ahead and is stale: it must not freeze every other
        projector until that clock's time.
        """
        if row is None or row[0] == self.owner:
            return False
        runs = self.seconds if row[2] is None else row[2]
        return now < row[1] <= now + runs + CLOCK_SLACK

    def _follow(self, row: tuple[str, float, float | None], now: float) -> None:
        # Look again when it lapses, or sooner (a plain read), so a clean release is
        # noticed within a fraction of a lease rather than when it would have lapsed.
        self.holder = row[0]
        self._holder_until = min(row[1], now + self.seconds * FOLLOWER_LOOK)

    def _take(self) -> bool:
        # A plain read first: a follower asks for the write lock only when the lease
        # looks free, so it never queues behind appends just to learn it is not.
        rows = self._read(_SELECT_HOLDER, (self.name,))
        now = self._clock()
        if rows and self._held_by_another(rows[0], now):
            self._follow(rows[0], now)
            return False
        with self._transaction("take the projector lease") as conn:
            # Again under the write lock: another projector may have just taken it.
            row = conn.execute(_SELECT_HOLDER, (self.name,)).fetchone()
            now = self._clock()
            if self._held_by_another(row, now):
                self._follow(row, now)
                return False
            expires = now + self.seconds
            conn.execute(
                "INSERT INTO projector_lease (name, owner, expires_at, seconds) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, "
                "expires_at = excluded.expires_at, seconds = excluded.seconds",
                (self.name, self.owner, expires, self.seconds),
            )
        self.held = True
        self.expires_at = self._holder_until = expires
        self.holder = self.owner
        return True

    def renew(self, conn: sqlite3.Connection) -> None:
        """Extend our lease inside the caller's write transaction, or raise LeaseLost.

        A lapsed lease that nobody took is still ours to renew: nobody else wrote.
        """
        expires = self._clock() + self.seconds
        cursor = conn.execute(
            "UPDATE projector_lease SET expires_at = ? WHERE name = ? AND owner = ?",
            (expires, self.name, self.owner),
        )
        if cursor.rowcount != 1:
            raise LeaseLost
        self.expires_at = self._holder_until = expires

    def renew_if_due(self) -> None:
        """Renew in a transaction of its own when half the lease has run (long work)."""
        if self._clock() >= self.expires_at - self.seconds / 2:
            with self._transaction("renew the projector lease") as conn:
                self.renew(conn)

    def lost(self) -> None:
        """Note that someone else holds it now (look at the row again next time)."""
        self.held = False
        self._holder_until = 0.0

    def release(self) -> None:
        """Give the lease up, so another projector need not wait for it to lapse."""
        if not self.held:
            return
        self.held = False
        with self._transaction("release the projector lease") as conn:
            conn.execute(
                "DELETE FROM projector_lease WHERE name = ? AND owner = ?",
                (self.name, self.owner),
            )


def read_lease(conn: sqlite3.Connection, name: str) -> tuple[str, float] | None:
    """(owner, expires_at) of read model `name`'s lease row, if any."""
    try:
        row = conn.execute(_SELECT, (name,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None  # a file opened read-only before the migration that adds it
        raise
    return None if row is None else (str(row[0]), float(row[1]))
