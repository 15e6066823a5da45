"""Bulk loads (demo data) and imports: many events in one transaction, indexes dropped
and rebuilt around a load into an empty store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from domain.envelope import (
    GENESIS_HASH,
    Head,
    RecordedEvent,
    Refusal,
)
from domain.errors import InvalidInput
from store.collector import collector_paused
from store.derived_macs import sign_commands
from store.hashchain import (
    ChainExtender,
    ChainRow,
    CommandRow,
    EventRejected,
    importing,
    recording,
)
from store.proofs.sqlite_log import TreeGrowth
from store.sqlite.base import SqliteBase
from store.sqlite.bulk_commands import DeferredCommands
from store.sqlite.import_records import SqliteImportWrites
from store.sqlite.statements import (
    FIND_COMMAND,
    HEAD,
    INSERT_EVENT,
    INSERT_REFUSAL,
    STREAM_VERSION,
    RefusalRow,
    refusal_row,
)

if TYPE_CHECKING:
    from domain.ports import ImportWrites, RecordedItem
    from domain.store_records import PendingEvent

BULK_CACHE_KIB = 262_144
"""SQLite's page cache during a bulk load, in KiB (default: 2 MiB). Into a store that
holds events, the commands rows go into an index keyed by random UUIDs, and one
transaction holds the whole load: with the default cache, pages spill to the WAL and
are read back again and again as the index grows (at 300k events, 24% more CPU). Into
an empty store they are written in key order at the end (`DeferredCommands`), and a
larger cache only delays the spilling of pages written once. Pages are taken only as
needed."""


class Loading(SqliteBase):
    """The EventWriter role's bulk load and import."""

    def append_bulk(self, events: Iterable[PendingEvent | Refusal], *, batch: int = 10_000) -> Head:
        """Load many decided events (demo data) in one transaction; returns the new head.

        Positions and hashes are assigned here; versions must continue each stream
        and `recorded_at` must be in the stored form, else InvalidInput and nothing is
        written.
        The first event of each command may carry its payload for the commands table.
        A `Refusal` among the events is kept at the head as of its place in the
        sequence (its own `at_position` is ignored, as in `record_refusal`).
        Into an empty store the secondary indexes are dropped and rebuilt around the
        load, which is much faster than maintaining them row by row.
        """
        return self._load(
            events, batch, lambda ext, item: ext.pending(item), "load events", refusals=True
        )

    def import_events(
        self,
        events: Iterable[RecordedEvent],
        validate: Callable[[RecordedEvent], None] | None = None,
    ) -> Head:
        """Import recorded events all-or-nothing, keeping their positions and hashes.

        Each must continue the chain exactly: position head+1, prev_hash the head's
        hash, the hash recomputing with this store's key, the stream's next version,
        a time in the stored form (it may go back: see `domain.clock_skew`).
        `validate` may refuse an event by raising InvalidInput.
        Any failure raises `EventRejected` (an InvalidInput naming the event's index)
        and leaves the database as it was.
        """

        return self._load(events, 10_000, importing(validate), "import events")

    def load_recorded(
        self,
        items: Iterable[RecordedItem],
        finish: Callable[[ImportWrites, Head], None],
    ) -> Head:
        """Load an exported history all-or-nothing, then its records through `finish`
        in the same transaction (see `domain.ports.EventWriter.load_recorded`)."""
        macs = self.macs

        def write_records(conn: sqlite3.Connection, head: Head) -> None:
            finish(SqliteImportWrites(conn, macs), head)

        return self._load(
            items, 10_000, recording, "import events", refusals=True, finish=write_records
        )

    def _load(
        self,
        items: Iterable[Any],
        batch: int,
        to_row: Callable[[ChainExtender, Any], ChainRow],
        action: str,
        *,
        refusals: bool = False,
        finish: Callable[[sqlite3.Connection, Head], None] | None = None,
    ) -> Head:
        if batch < 1:
            raise InvalidInput("batch must be >= 1")
        conn = self._conn()
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
        try:
            with collector_paused():  # see `_loaded`
                return self._loaded(conn, items, batch, to_row, action, refusals, finish)
        finally:
            conn.execute(f"PRAGMA cache_size = {int(cache)}")
            # A load leaves a WAL as large as what it wrote (a failed one, the pages it
            # spilled): copy it now, in the caller's time, as SQLite's own checkpoint
            # after the commit did, and give its disk space back unless a reader needs it.
            self.release_wal()

    def _loaded(
        self,
        conn: sqlite3.Connection,
        items: Iterable[Any],
        batch: int,
        to_row: Callable[[ChainExtender, Any], ChainRow],
        action: str,
        refusals: bool,
        finish: Callable[[sqlite3.Connection, Head], None] | None,
    ) -> Head:
        """The load itself, with the cyclic garbage collector paused: a load keeps a set
        of every command id it met (millions in a 10M-event demo) and allocates rows in
        bursts, so each full collection traversed all of it again (at 2.5M events, a
        quarter of the loader's CPU; `bench/bench_demo_load.py`). It makes no cycles."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                head = conn.execute(HEAD).fetchone()
                empty = head is None
                extender = ChainExtender(
                    Head(0, GENESIS_HASH) if head is None else Head(head[0], head[1]),
                    "" if head is None else head[2],
                    self._key,
                    stream_version=_zero if empty else self._version_lookup(conn),
                    command_exists=_never if empty else self._command_lookup(conn),
                )
                indexes = self._drop_event_indexes(conn) if empty else []
                # Into an empty store, the commands rows are written in key order at
                # the end (`store.sqlite.bulk_commands`); otherwise as they come.
                deferred = DeferredCommands(conn, self._insert_command) if empty else None
                growth = TreeGrowth()
                rows: list[ChainRow] = []
                refused: list[RefusalRow] = []
                for item in items:
                    if refusals and type(item) is Refusal:
                        refused.append(refusal_row(item, extender.position, extender))
                        continue
                    rows.append(to_row(extender, item))
                    if len(rows) >= batch:
                        self._write_rows(
                            conn, rows, extender.take_commands(), refused, deferred, growth
                        )
                        rows, refused = [], []
                self._write_rows(conn, rows, extender.finish_commands(), refused, deferred, growth)
                if deferred is not None:
                    deferred.flush()
                if finish is not None:  # an import's own records (`load_recorded`)
                    finish(conn, extender.head)
                for sql in indexes:
                    self._rebuild_index(conn, sql)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback(conn)
                raise
        except sqlite3.IntegrityError as exc:
            raise self._integrity(exc) from None
        except sqlite3.Error as exc:
            raise self._error(exc, action) from None
        self._commits += 1
        return extender.head

    def _write_rows(
        self,
        conn: sqlite3.Connection,
        rows: list[ChainRow],
        commands: list[CommandRow],
        refusals: list[RefusalRow],
        deferred: DeferredCommands | None,
        growth: TreeGrowth,
    ) -> None:
        if rows:
            conn.executemany(INSERT_EVENT, rows)
            growth.extend(conn, rows)
        if commands:
            signed = sign_commands(conn, self.macs, commands)
            if deferred is None:
                conn.executemany(self._insert_command, signed)
            else:
                deferred.write(signed)
        if refusals:
            conn.executemany(INSERT_REFUSAL, refusals)

    def _drop_event_indexes(self, conn: sqlite3.Connection) -> list[str]:
        """Drop the events table's own indexes; returns their SQL to rebuild them."""
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        return [sql for _, sql in indexes]

    def _rebuild_index(self, conn: sqlite3.Connection, sql: str) -> None:
        try:
            conn.execute(sql)
        except sqlite3.IntegrityError:
            duplicate = conn.execute(
                "SELECT event_id, min(position), max(position) FROM events "
                "GROUP BY event_id HAVING count(*) > 1 LIMIT 1"
            ).fetchone()
            if duplicate is None:
                raise
            event_id, first, second = duplicate
            raise EventRejected(
                f"event id {event_id} is used twice (positions {first} and {second})",
                # Rebuilding only happens after a load into an empty store, where
                # position p was the load's event p - 1.
                second - 1,
            ) from None

    def _version_lookup(self, conn: sqlite3.Connection) -> Callable[[str], int]:
        def lookup(stream_id: str) -> int:
            return int(conn.execute(STREAM_VERSION, (stream_id,)).fetchone()[0] or 0)

        return lookup

    def _command_lookup(self, conn: sqlite3.Connection) -> Callable[[str], bool]:
        def lookup(command_id: str) -> bool:
            return conn.execute(FIND_COMMAND, (command_id,)).fetchone() is not None

        return lookup


def _zero(_: str) -> int:
    return 0


def _never(_: str) -> bool:
    return False
