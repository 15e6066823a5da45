"""Bulk loads on PostgreSQL: `demo`'s events and an import's recorded history, each in
one transaction through `COPY` (store/postgres/bulk_load.py), beside the appends of
`Writing`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, cast

import psycopg

from domain.envelope import (
    Head,
    PendingEvent,
    RecordedEvent,
    Refusal,
)
from domain.errors import InvalidInput
from domain.ports import ImportWrites, RecordedItem
from store.collector import collector_paused
from store.hashchain import (
    ChainExtender,
    ChainRow,
    CommandRow,
    EventRejected,
    importing,
    recording,
)
from store.postgres.bulk_indexes import restore, set_aside
from store.postgres.bulk_load import load_items
from store.postgres.import_writes import PostgresImportWrites
from store.postgres.writes import Writing, sqlite_view
from store.proofs.sqlite_log import TreeGrowth
from store.sqlite.statements import RefusalRow


class Loads(Writing):
    """The store's bulk loads: `append_bulk`, `import_events` and `load_recorded`."""

    def append_bulk(self, events: Iterable[PendingEvent | Refusal], *, batch: int = 10_000) -> Head:
        """Load many decided events (demo data) in one transaction; returns the new head
        (see `EventWriter.append_bulk`)."""
        return self._load(
            events, batch, lambda ext, item: ext.pending(item), "load events", refusals=True
        )

    def import_events(
        self,
        events: Iterable[RecordedEvent],
        validate: Callable[[RecordedEvent], None] | None = None,
    ) -> Head:
        """Import recorded events all-or-nothing, keeping positions and hashes (see
        `EventWriter.import_events`)."""
        return self._load(events, 10_000, importing(validate), "import events")

    def _load(
        self,
        items: Iterable[Any],
        batch: int,
        to_row: Callable[[ChainExtender, Any], ChainRow],
        action: str,
        *,
        refusals: bool = False,
        finish: Callable[[Any, Head], None] | None = None,
    ) -> Head:
        """Chain rows for `items` written in one transaction under the append lock.

        `finish(conn, head)` runs last in the same transaction (an import's own
        records, `store.transfer.importer`), with the sqlite3-style connection view.
        """
        if batch < 1:
            raise InvalidInput("batch must be >= 1")

        def load(conn: psycopg.Connection) -> Head:
            head, last_time = self._head_row(conn)
            # Into an empty store (the common case: demo, a moved store) every stream is
            # at version 0 and no command id is known: no lookup per event.
            empty = (
                head.position == 0 and not conn.execute("SELECT 1 FROM commands LIMIT 1").fetchone()
            )

            def version(stream: str) -> int:
                return 0 if empty else self._stream_versions(conn, [stream]).get(stream, 0)

            def known(command_id: str) -> bool:
                if empty:
                    return False
                found = conn.execute(
                    "SELECT 1 FROM commands WHERE command_id = %s", (command_id,)
                ).fetchone()
                return found is not None

            extender = ChainExtender(
                head, last_time, self._key, stream_version=version, command_exists=known
            )

            # Streamed (`empty`), batches are written by a thread of their own while this
            # one holds the store's lock: the statements of that thread take another.
            lock = threading.RLock() if empty else self._lock
            growth = TreeGrowth()

            def write(
                rows: list[ChainRow],
                refused: list[RefusalRow],
                commands: list[CommandRow],
                copied: bool,
            ) -> None:
                if not copied:
                    self._refuse_known_ids(conn, rows, head.position)
                self._write_rows(conn, rows, commands, refused, copied=copied, lock=lock)
                self._extend_tree(conn, rows, lock=lock, growth=growth)

            aside = set_aside(conn) if empty else None  # (built at the end: bulk_indexes.py)
            with collector_paused():  # as SQLite's load (store/sqlite/bulk.py)
                load_items(
                    conn,
                    extender,
                    items,
                    to_row,
                    write,
                    batch=batch,
                    refusals=refusals,
                    stream=empty,
                )
            if aside is not None:
                restore(conn, aside)
            if finish is not None:
                finish(sqlite_view(conn, self._lock), extender.head)
            return extender.head

        return cast(Head, self._locked_write(action, load))

    def _refuse_known_ids(self, conn: psycopg.Connection, rows: list[ChainRow], start: int) -> None:
        """Name the first event of `rows` whose id is already recorded (EventRejected at
        its index in the load, which began after position `start`)."""
        if not rows:
            return
        found = conn.execute(
            "SELECT event_id FROM events WHERE event_id = ANY(%s) LIMIT 1",
            ([row[1] for row in rows],),
        ).fetchone()
        if found is not None:
            row = next(r for r in rows if r[1] == found[0])
            raise EventRejected(f"event id {found[0]} is already recorded", row[0] - start - 1)

    def load_recorded(
        self,
        items: Iterable[RecordedItem],
        finish: Callable[[ImportWrites, Head], None],
    ) -> Head:
        """Load an exported history all-or-nothing, then its records through `finish`
        in the same transaction (see `domain.ports.EventWriter.load_recorded`)."""
        macs = self.macs

        def write_records(conn: Any, head: Head) -> None:
            finish(PostgresImportWrites(conn, macs), head)

        return self._load(
            items, 10_000, recording, "import events", refusals=True, finish=write_records
        )

    # -- refusals and bookmarks ----------------------------------------------------------------
