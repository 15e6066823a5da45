"""The EventWriter role on PostgreSQL, and the other writes (refusals, bookmarks).

Every write that touches the log runs in one transaction that first takes the append
lock, `pg_advisory_xact_lock(APPEND_LOCK)`, then reads the head and assigns head+1.
The lock is held to the commit, so the next writer reads the head only after this
transaction is visible: positions run 1..N with no hole, and no reader sees N+1 before
N (docs/postgres.md). The chain rows come from `store.hashchain.ChainExtender`, the
one set of rules every store follows.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import psycopg

from domain.envelope import (
    GENESIS_HASH,
    AppendResult,
    Head,
    Metadata,
    NewEvent,
    Refusal,
    StreamAppend,
)
from domain.errors import ConcurrencyConflict, InvalidInput
from store.derived_macs import check_command, sign_commands
from store.hashchain import (
    ChainExtender,
    ChainRow,
    CommandRow,
    canonical_json,
    check_append,
    event_from_row,
    stored_time,
)
from store.postgres.append_function import append_on_server
from store.postgres.append_sql import APPEND_LOCK, CHANNEL, SITUATION, STALE_OR_LOCK
from store.postgres.base import CHAIN_COLUMNS, PostgresBase, QmarkConnection, execute_rows
from store.postgres.group_commit import append_shared
from store.proofs.sqlite_log import TreeGrowth
from store.sqlite.statements import RefusalRow, refusal_row

_INSERT_EVENT = f"INSERT INTO events ({CHAIN_COLUMNS}) VALUES ({', '.join(['%s'] * 12)})"
_COMMAND_COLUMNS = (
    "command_id, command_type, payload, actor, recorded_at, first_position, last_position"
)
_INSERT_REFUSAL = (
    "INSERT INTO refusals (id, recorded_at, at_position, actor, command_id, command_type, "
    "command, reason, code) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)"
)
_IDLE = psycopg.pq.TransactionStatus.IDLE
_HEAD = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
_CHANGED = (
    # The change token and the wake-up of followers, in one statement.
    "WITH bumped AS (UPDATE changes SET version = version + 1 WHERE id = 1 RETURNING version) "
    "SELECT pg_notify(%s, version::text) FROM bumped"
)


def sqlite_view(conn: psycopg.Connection, lock: threading.RLock) -> Any:
    """`conn` for the helpers of `store.derived_macs` and `store.transfer` (they take a
    sqlite3-style connection with `?` placeholders)."""
    return cast(Any, QmarkConnection(conn, lock))


class Writing(PostgresBase):
    """Appends, bulk loads, imports, refusals and bookmarks."""

    def _locked_write(
        self,
        action: str,
        work: Callable[[psycopg.Connection], Any],
        *,
        pipelined: bool = False,
        locks: bool = True,
    ) -> Any:
        """Run `work` in one transaction holding the append lock; bump the change token
        and notify followers in the same transaction.

        `pipelined` runs it in psycopg's pipeline mode: statements are sent without
        waiting for their results, and a result that `work` fetches is the only wait.
        An append then costs two round trips, BEGIN + lock + its one read, then its
        writes + COMMIT, so the lock (which serialises every writer) is held for about
        one round trip plus the commit (`bench/bench_postgres.py --profile` counts them).
        With `locks=False`, `work` takes the append lock itself (an append: `STALE_OR_LOCK`)
        and must write nothing unless it did.
        """
        self._open_check()
        self._refuse_read_only(action)
        conn = self._pg
        try:
            with self._lock:
                idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                if pipelined and idle and psycopg.Pipeline.is_supported():
                    return self._pipelined(conn, work, locks)
                with conn.transaction():
                    if locks:
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
                    result = work(conn)
                    conn.execute(_CHANGED, (CHANNEL,))
                    return result
        except psycopg.Error as exc:
            raise self._error(exc, action) from None

    @staticmethod
    def _pipelined(
        conn: psycopg.Connection, work: Callable[[psycopg.Connection], Any], locks: bool
    ) -> Any:
        """`work` between BEGIN and COMMIT sent as plain statements in one pipeline, with
        one sync at the end (psycopg's `transaction()` adds syncs after BEGIN and around
        COMMIT: three more round trips). Whatever fails, the transaction is rolled back
        before the error goes on."""
        try:
            with conn.pipeline():  # its end sends the one sync, and waits for it
                conn.execute("BEGIN")
                if locks:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
                result = work(conn)
                conn.execute(_CHANGED, (CHANNEL,))
                conn.execute("COMMIT")
            return result
        except BaseException:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
            raise

    def _head_row(self, conn: psycopg.Connection) -> tuple[Head, str]:
        row = conn.execute(_HEAD).fetchone()
        if row is None:
            return Head(0, GENESIS_HASH), ""
        return Head(int(row[0]), row[1]), row[2]

    def _stream_versions(self, conn: psycopg.Connection, streams: list[str]) -> dict[str, int]:
        rows = conn.execute(
            "SELECT stream_id, max(version) FROM events WHERE stream_id = ANY(%s) "
            "GROUP BY stream_id",
            (streams,),
        ).fetchall()
        return {stream: int(version) for stream, version in rows}

    def _write_rows(
        self,
        conn: psycopg.Connection,
        rows: list[ChainRow],
        commands: list[CommandRow],
        refusals: Sequence[RefusalRow] = (),
        *,
        copied: bool = False,
        lock: threading.RLock | None = None,
    ) -> None:
        """Write event rows (unless `copied`: sent already), commands rows and refusals;
        `lock` replaces the store's in the helpers (a bulk load's writer thread)."""
        if rows and not copied:
            execute_rows(conn, _INSERT_EVENT, rows)
        if commands:
            # The rows' hashes, for the MACs (none without a key: nothing to look up).
            hashes = {row[0]: row[11] for row in rows} if self.macs is not None else None
            view = sqlite_view(conn, lock or self._lock)
            signed = sign_commands(view, self.macs, commands, hashes)
            mac = self.macs is not None
            columns = _COMMAND_COLUMNS + (", mac" if mac else "")
            marks = ", ".join(["%s"] * (8 if mac else 7))
            execute_rows(conn, f"INSERT INTO commands ({columns}) VALUES ({marks})", signed)
        if refusals:
            row = conn.execute("SELECT coalesce(max(id), 0) FROM refusals").fetchone()
            first = int(row[0]) + 1 if row else 1
            with conn.cursor() as cur:
                cur.executemany(_INSERT_REFUSAL, [(first + i, *r) for i, r in enumerate(refusals)])

    # -- appends ---------------------------------------------------------------------------

    def append(self, streams: Sequence[StreamAppend], metadata: Metadata) -> AppendResult:
        """Append to one or more streams in one transaction (see `EventWriter.append`)."""
        check_append(streams)
        # Everything that does not depend on the head is made before taking the lock.
        texts = [
            (append, event, canonical_json(event.data))
            for append in streams
            for event in append.events
        ]
        metadata_text = canonical_json(metadata.event_metadata(), "metadata")
        if self.server_append and self._key is None and self.macs is None:
            return self._append_on_server(streams, metadata, texts, metadata_text)
        return cast(
            AppendResult,
            self._locked_write(
                "append",
                lambda c: self._append(c, streams, metadata, texts, metadata_text),
                pipelined=True,
                locks=False,
            ),
        )

    def _append_on_server(
        self,
        streams: Sequence[StreamAppend],
        metadata: Metadata,
        texts: list[tuple[StreamAppend, NewEvent, str]],
        metadata_text: str,
    ) -> AppendResult:
        self._open_check()
        self._refuse_read_only("append")
        moment = stored_time(self.clock.now())  # the writer's own time, never clamped
        try:
            with self._lock:
                conn = self._pg
                idle = conn.info.transaction_status == _IDLE
                if idle and self.shared_commits and self.commits.shared():
                    done, self.last_batch = append_shared(
                        conn, streams, metadata, texts, metadata_text, moment
                    )
                else:  # one commit alone, or inside `exclusive_appends`: the function
                    done = append_on_server(conn, streams, metadata, texts, metadata_text, moment)
                    self.last_batch = int(done.outcome == "ok")
                if idle:  # what the path chooser learns (store/postgres/commit_mode.py)
                    first = done.result.positions[0] if done.result.positions else None
                    self.commits.observe(first, done.locked_at, done.waited, self.last_batch)
                if done.outcome == "duplicate":
                    return self._find_command(self._pg, metadata.command_id) or done.result
        except psycopg.Error as exc:
            raise self._error(exc, "append") from None
        if done.outcome != "ok":
            raise self._stale(streams, done.versions)
        self.last_lock_grant = done.locked_at
        return done.result

    def _append(
        self,
        conn: psycopg.Connection,
        streams: Sequence[StreamAppend],
        metadata: Metadata,
        texts: list[tuple[StreamAppend, NewEvent, str]],
        metadata_text: str,
    ) -> AppendResult:
        command_id = metadata.command_id
        stream_ids = [a.stream_id for a in streams]
        expected = [a.expected_version for a in streams]
        lock = conn.execute(STALE_OR_LOCK, (APPEND_LOCK, stream_ids, expected, command_id))
        row = conn.execute(SITUATION, (stream_ids, command_id)).fetchone()
        assert row is not None  # one row, always
        earlier, position, hash_, last_time, found, edge, self.last_lock_grant = row
        locked = lock.fetchone()
        if not (locked and locked[0]):
            # Stale before the lock: a conflict, found without queueing for the lock
            # (versions only grow, so it still holds); nothing is written.
            raise self._stale(streams, found)
        if earlier is not None and command_id:
            duplicate = self._find_command(conn, command_id)
            if duplicate is not None:
                return duplicate
        versions: dict[str, int] = {k: int(v) for k, v in (found or {}).items()}
        for append in streams:
            actual = versions.get(append.stream_id, 0)
            if actual != append.expected_version:
                raise ConcurrencyConflict(append.stream_id, append.expected_version, actual)
        if position is None:
            head, last_time = Head(0, GENESIS_HASH), ""
        else:
            head = Head(int(position), hash_)
        # The writer's own time, never clamped (see `domain.clock_skew`).
        recorded_at = stored_time(self.clock.now())
        extender = ChainExtender(
            head, last_time, self._key, stream_version=lambda s: versions.get(s, 0)
        )
        rows = [
            extender.row(
                event.event_id,
                append.stream_id,
                append.stream_type,
                event.type,
                event.schema_version,
                recorded_at,
                data_text,
                metadata_text,
            )
            for append, event, data_text in texts
        ]
        if len({row[1] for row in rows}) != len(rows):
            raise InvalidInput("an event id in this append is already recorded")
        commands: list[CommandRow] = []
        if command_id:
            commands.append(
                (
                    command_id,
                    metadata.command_type,
                    canonical_json(metadata.command, "command"),
                    metadata.actor,
                    recorded_at,
                    rows[0][0] if rows else 0,
                    rows[-1][0] if rows else 0,
                )
            )
        self._write_rows(conn, rows, commands)
        right_edge = {(int(lv), int(ix)): bytes.fromhex(h) for lv, ix, h in edge or ()}
        self._extend_tree(conn, rows, right_edge)
        events = tuple(event_from_row(row) for row in rows)
        return AppendResult(command_id, tuple(row[0] for row in rows), events)

    @staticmethod
    def _stale(
        streams: Sequence[StreamAppend], found: dict[str, int] | None
    ) -> ConcurrencyConflict:
        """The conflict a stale append ran into (its first stream whose version moved)."""
        versions = {k: int(v) for k, v in (found or {}).items()}
        for append in streams:
            actual = versions.get(append.stream_id, 0)
            if actual != append.expected_version:
                return ConcurrencyConflict(append.stream_id, append.expected_version, actual)
        first = streams[0]  # moved back since: unreachable, as versions only grow; retried
        return ConcurrencyConflict(first.stream_id, first.expected_version, first.expected_version)

    def _extend_tree(
        self,
        conn: psycopg.Connection,
        rows: list[ChainRow],
        nodes: dict[tuple[int, int], bytes] | None = None,
        lock: threading.RLock | None = None,
        growth: TreeGrowth | None = None,
    ) -> None:
        """Grow the Merkle tree in the same transaction (store/postgres/proofs.py);
        `nodes`: stored nodes already read (the right edge); `lock`: see `_write_rows`;
        `growth`: the tree a load grows batch after batch."""
        (growth or TreeGrowth()).extend(sqlite_view(conn, lock or self._lock), rows, nodes)

    def find_command(self, command_id: str) -> AppendResult | None:
        """The result an earlier command with this id recorded, if any."""
        self._open_check()
        try:
            with self._lock:
                return self._find_command(self._pg, command_id)
        except psycopg.Error as exc:
            raise self._error(exc, "read") from None

    def _find_command(self, conn: psycopg.Connection, command_id: str) -> AppendResult | None:
        row = conn.execute(
            "SELECT first_position, last_position FROM commands WHERE command_id = %s",
            (command_id,),
        ).fetchone()
        if row is None:
            return None
        first, last = int(row[0]), int(row[1])
        rows = (
            conn.execute(
                f"SELECT {CHAIN_COLUMNS} FROM events WHERE position BETWEEN %s AND %s "
                "ORDER BY position",
                (first, last),
            ).fetchall()
            if first
            else []
        )
        events = tuple(
            e
            for e in (event_from_row(tuple(r)) for r in rows)
            if e.metadata.get("command_id") == command_id
        )
        check_command(sqlite_view(conn, self._lock), self.macs, command_id, first, last, events)
        return AppendResult(command_id, tuple(e.position for e in events), events, duplicate=True)

    # -- bulk loads and imports --------------------------------------------------------------

    def record_refusal(self, refusal: Refusal) -> Refusal:
        """Keep a refused command for the audit, placed at the current head position."""
        canonical_json(refusal.command, "command")

        def keep(conn: psycopg.Connection) -> Refusal:
            head, _ = self._head_row(conn)
            moment = refusal.recorded_at or stored_time(self.clock.now())
            row = refusal_row(refusal, head.position)
            self._write_rows(conn, [], [], [(moment, *row[1:])])
            kept = conn.execute("SELECT max(id) FROM refusals").fetchone()
            return Refusal(
                id=int(kept[0]) if kept else 0,
                recorded_at=moment,
                at_position=head.position,
                actor=refusal.actor,
                command_id=refusal.command_id,
                command_type=refusal.command_type,
                command=dict(refusal.command),
                reason=refusal.reason,
                code=refusal.code,
            )

        return cast(Refusal, self._locked_write("record a refusal", keep))
