"""Bulk loads and imports on PostgreSQL: chain rows sent while the next are being made.

Into an empty store (`demo`, a store moved by `export | eventscope import -`), each
event row goes into an open `COPY events … FROM STDIN` as soon as the chain (and, for an
import, the domain's replay) has accepted it: the server parses and indexes rows while
the client checks the next ones, where a batch written after it was built made each
side wait for the other. Every `batch` rows the COPY ends, and the batch's commands
rows, refusals and Merkle nodes follow, all in the load's one transaction. A refusal
raised while the COPY is open aborts it (psycopg sends CopyFail, and keeps the
refusal's own exception) and the transaction is rolled back: nothing is written.

Into a store that already holds events, a batch is first collected, so that its event
ids can be checked against the stored ones and a clash named at its line before any
row is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg

from domain.envelope import Refusal
from store.hashchain import ChainExtender, ChainRow, EventRejected
from store.postgres.base import CHAIN_COLUMNS
from store.sqlite.statements import RefusalRow, refusal_row

COPY_EVENTS = f"COPY events ({CHAIN_COLUMNS}) FROM STDIN"

WriteBatch = Callable[[list[ChainRow], list[RefusalRow], bool, bool], None]
"""`write(rows, refusals, copied, last)`: write a batch's other rows (and its event rows
unless `copied`: already sent by COPY); `last` is the load's final batch."""


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
    to `write`; with `stream`, event rows are sent by COPY as they are made."""
    source = iter(items)
    fresh: set[str] = set()
    last = False
    while not last:
        rows: list[ChainRow] = []
        refused: list[RefusalRow] = []
        if stream:
            with conn.cursor() as cur, cur.copy(COPY_EVENTS) as copy:
                last = _take(
                    source, extender, to_row, rows, refused, fresh, batch, refusals, copy.write_row
                )
        else:
            last = _take(source, extender, to_row, rows, refused, fresh, batch, refusals, None)
        write(rows, refused, stream, last)


def _take(
    source: Iterator[Any],
    extender: ChainExtender,
    to_row: Callable[[ChainExtender, Any], ChainRow],
    rows: list[ChainRow],
    refused: list[RefusalRow],
    fresh: set[str],
    batch: int,
    refusals: bool,
    send: Callable[[ChainRow], None] | None,
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
        if send is not None:
            send(row)
        rows.append(row)
        if len(rows) >= batch:
            return False
    return True
