"""The projector's lease: which one of many projectors may write a read model.

One lease per read model, kept by the store (`ReadModelTables.lease`). A projector
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

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Final

from domain.ports.projections import LeaseRow, ReadModelTables

CLOCK_SLACK: Final = 1.0
"""Seconds a lease's expiry may lie beyond a full lease from now and still count
(clocks of processes on one machine agree; this covers rounding and slow starts)."""

FOLLOWER_LOOK: Final = 0.25
"""A follower looks at the lease row again after this fraction of a lease at most."""

Transaction = Callable[[str], AbstractContextManager[ReadModelTables]]
"""`transaction(action)`: a write transaction on the read models."""
Reader = Callable[[str], LeaseRow | None]
"""`read(name)`: the lease of read model `name`, read outside a write transaction."""


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
                with self._transaction("renew the projector lease") as tables:
                    self.renew(tables)
            except LeaseLost:
                self.lost()
                return False
            return True
        if now < self._holder_until:
            return False
        return self._take()

    def _held_by_another(self, row: LeaseRow | None, now: float) -> bool:
        """True when `row` is another projector's live lease.

        A lease lapses at its `expires_at`; one that lies further ahead than it runs
        (its own `seconds`, ours for a row without one, plus `CLOCK_SLACK`) was
        written by a clock running ahead and is stale: it must not freeze every other
        projector until that clock's time.
        """
        if row is None or row.owner == self.owner:
            return False
        runs = self.seconds if row.seconds is None else row.seconds
        return now < row.expires_at <= now + runs + CLOCK_SLACK

    def _follow(self, row: LeaseRow, now: float) -> None:
        # Look again when it lapses, or sooner (a plain read), so a clean release is
        # noticed within a fraction of a lease rather than when it would have lapsed.
        self.holder = row.owner
        self._holder_until = min(row.expires_at, now + self.seconds * FOLLOWER_LOOK)

    def _take(self) -> bool:
        # A plain read first: a follower asks for the write lock only when the lease
        # looks free, so it never queues behind appends just to learn it is not.
        seen = self._read(self.name)
        now = self._clock()
        if seen is not None and self._held_by_another(seen, now):
            self._follow(seen, now)
            return False
        with self._transaction("take the projector lease") as tables:
            # Again under the write lock: another projector may have just taken it.
            row = tables.lease(self.name)
            now = self._clock()
            if row is not None and self._held_by_another(row, now):
                self._follow(row, now)
                return False
            expires = now + self.seconds
            tables.take_lease(self.name, self.owner, expires, self.seconds)
        self.held = True
        self.expires_at = self._holder_until = expires
        self.holder = self.owner
        return True

    def renew(self, tables: ReadModelTables) -> None:
        """Extend our lease inside the caller's write transaction, or raise LeaseLost.

        A lapsed lease that nobody took is still ours to renew: nobody else wrote.
        """
        expires = self._clock() + self.seconds
        if not tables.renew_lease(self.name, self.owner, expires):
            raise LeaseLost
        self.expires_at = self._holder_until = expires

    def renew_if_due(self) -> None:
        """Renew in a transaction of its own when half the lease has run (long work)."""
        if self._clock() >= self.expires_at - self.seconds / 2:
            with self._transaction("renew the projector lease") as tables:
                self.renew(tables)

    def lost(self) -> None:
        """Note that someone else holds it now (look at the row again next time)."""
        self.held = False
        self._holder_until = 0.0

    def release(self) -> None:
        """Give the lease up, so another projector need not wait for it to lapse."""
        if not self.held:
            return
        self.held = False
        with self._transaction("release the projector lease") as tables:
            tables.release_lease(self.name, self.owner)
