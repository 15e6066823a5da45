"""Bulk loads and imports on PostgreSQL: rows written by a second thread while the next
are being made.

Into an empty store (`demo`, a store moved by `export | eventscope import -`), the rows
are made (the chain, and for an import the domain's replay) in the caller's thread, a
batch of `STREAM_BATCH` at a time, and a writer thread sends each batch: `COPY events
… FROM STDIN`, then the batch's commands rows, refusals and Merkle nodes, all in the
load's one transaction. While the writer waits for the server (psycopg releases the
GIL on its socket), the caller makes the next batch: the client never stops to wait for
the server, which only took turns with it before (the events overlapped, but the
commands rows and tree nodes were waited for). The caller touches neither the
connection nor the store while the writer runs (it holds the store's lock, so no
other thread does), and joins the writer before anything else. A refusal raised while
making rows ends the writer after its current batch and propagates: the transaction
is rolled back and nothing is written. A writer's error (a lost connection) is raised
in the caller at its next batch.

Into a store that already holds events, a batch is first collected and written by the
caller, so that its event ids can be checked against the stored ones and a clash named
at its line before any row is sent.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg

from domain.envelope import Refusal
from store.handoff import hand
from store.hashchain import ChainExtender, ChainRow, CommandRow, EventRejected
from store.postgres.base import CHAIN_COLUMNS, column_types
from store.sqlite.statements import RefusalRow, refusal_row

COPY_EVENTS = f"COPY events ({CHAIN_COLUMNS}) FROM STDIN (FORMAT BINARY)"
"""The events' rows in COPY's binary form: each text column goes as its bytes, with no
escaping on either side, and each number as its eight (or four) bytes."""

CHAIN_TYPES = column_types("events", CHAIN_COLUMNS)
"""The PostgreSQL type of each column of a ChainRow (`CHAIN_COLUMNS`), for the binary COPY."""

STREAM_BATCH = 2_000
"""Rows per batch handed to the writer thread: small enough that the server starts
soon and the last batch's wait is short, large enough that the per-batch statements
(COPY's start and end, the tree's right edge) cost little."""

QUEUED = 2
"""Batches made and waiting for the writer, at most."""

FIRST_BATCH = 250
"""Rows in the first streamed batch: the server starts within a few milliseconds
instead of waiting for a full batch to be made."""

GIL_HANDOFF_S = 0.0005
"""The interpreter's switch interval while a writer thread runs (see `_stream`)."""

WriteBatch = Callable[[list[ChainRow], list[RefusalRow], list[CommandRow], bool], None]
"""`write(rows, refusals, commands, copied)`: write a batch's commands rows, refusals
and tree nodes (and its event rows unless `copied`: already sent by COPY)."""

_Job = tuple[list[ChainRow], list[RefusalRow], list[CommandRow]]


def load_items(
    conn: psycopg.Connection,
    extender: ChainExtender,
    items: Iterable[Any],
    to_row: Callable[[ChainExtender, Any], ChainRow],
    write: WriteBatch,
    *,
    batch: int,
    refusals: bool,
    stream: bool,
) -> None:
    """Turn `items` into chain rows with `to_row`, a batch at a time, handing each batch
    to `write`; with `stream`, a writer thread sends each batch by COPY while the next
    one is made."""
    source = iter(items)
    fresh: set[str] = set()
    if stream:
        _stream(conn, extender, source, to_row, write, fresh, min(batch, STREAM_BATCH), refusals)
        return
    last = False
    while not last:
        rows: list[ChainRow] = []
        refused: list[RefusalRow] = []
        last = _take(source, extender, to_row, rows, refused, fresh, batch, refusals)
        write(rows, refused, _commands(extender, last), False)


def _stream(
    conn: psycopg.Connection,
    extender: ChainExtender,
    source: Iterator[Any],
    to_row: Callable[[ChainExtender, Any], ChainRow],
    write: WriteBatch,
    fresh: set[str],
    batch: int,
    refusals: bool,
) -> None:
    jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=QUEUED)
    failed: list[BaseException] = []

    def send() -> None:
        try:
            while (job := jobs.get()) is not None:
                rows, refused, commands = job
                with conn.cursor() as cur, cur.copy(COPY_EVENTS) as copy:
                    copy.set_types(CHAIN_TYPES)
                    for row in rows:
                        copy.write_row(row)
                write(rows, refused, commands, True)
        except BaseException as exc:  # handed to the caller's thread, raised there
            failed.append(exc)

    writer = threading.Thread(target=send, name="eventscope-load-writer", daemon=True)
    # Each time the server answers or drains the socket, the writer needs the GIL back
    # from this thread, which gives it up only when asked and after the switch interval
    # (5 ms by default): a dozen such waits a batch would make the writer the slower
    # side. Asked sooner for the load's length.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, GIL_HANDOFF_S))
    writer.start()
    try:
        last = False
        size = min(batch, FIRST_BATCH)
        while not last:
            rows: list[ChainRow] = []
            refused: list[RefusalRow] = []
            last = _take(source, extender, to_row, rows, refused, fresh, size, refusals)
            size = batch
            hand(jobs, (rows, refused, _commands(extender, last)), writer, failed)
    finally:
        # Also on a refusal or Ctrl-C: the writer ends after its current batch, and the
        # connection is the caller's again (to roll back) only once it has.
        try:
            hand(jobs, None, writer, failed, raising=False)
            writer.join()
        finally:
            sys.setswitchinterval(interval)
    if failed:
        raise failed[0]


def _commands(extender: ChainExtender, last: bool) -> list[CommandRow]:
    """The commands rows complete after a batch (all of them after the last)."""
    return extender.finish_commands() if last else extender.take_commands()


def _take(
    source: Iterator[Any],
    extender: ChainExtender,
    to_row: Callable[[ChainExtender, Any], ChainRow],
    rows: list[ChainRow],
    refused: list[RefusalRow],
    fresh: set[str],
    batch: int,
    refusals: bool,
) -> bool:
    """Fill `rows` (and `refused`) with up to `batch` rows; True when `source` ran out."""
    for item in source:
        if refusals and type(item) is Refusal:
            refused.append(refusal_row(item, extender.position, extender))
            continue
        row = to_row(extender, item)
        if row[1] in fresh:
            raise EventRejected(f"event id {row[1]} is used twice", extender.count - 1)
        fresh.add(row[1])
        rows.append(row)
        if len(rows) >= batch:
            return False
    return True
