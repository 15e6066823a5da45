"""The export stream: every event as it is, with the records an audit also needs.

See `store.transfer.records` for the record kinds and where each is written. Read in
chunks by position up to the head as the export starts (like `iter_all`), so no read
transaction stays open for the whole export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import orjson

from store.transfer.records import RECORD, read_imports

if TYPE_CHECKING:
    from store.sqlite import SqliteEventStore

_CHUNK = 2000
_COMMANDS = (
    "SELECT command_id, command_type, payload, actor, recorded_at, first_position "
    "FROM commands WHERE first_position BETWEEN ? AND ? ORDER BY first_position"
)
_EMPTY_COMMANDS = (
    "SELECT command_id, command_type, payload, actor, recorded_at "
    "FROM commands WHERE first_position = 0 ORDER BY recorded_at, command_id"
)
_REFUSALS = (
    "SELECT recorded_at, at_position, actor, command_id, command_type, command, reason, code "
    "FROM refusals WHERE at_position BETWEEN ? AND ? ORDER BY at_position, id"
)
_BOOKMARKS = "SELECT name, position, actor, created_at FROM bookmarks ORDER BY position, name"


def export_history(store: SqliteEventStore, out: IO[bytes]) -> int:
    """Write the store's whole history to `out` (binary) as JSON Lines; returns the events.

    Events keep the format of older exports; refusals, command payloads, bookmarks
    and import records follow as `record` lines (see `store.transfer.records`).
    """
    count = 0
    batch: list[bytes] = []
    for line in _lines(store):
        batch.append(line)
        if len(batch) >= 1000:
            out.write(b"\n".join(batch) + b"\n")
            batch.clear()
        count += line.startswith(b'{"position"')
    if batch:
        out.write(b"\n".join(batch) + b"\n")
    return count


def _lines(store: SqliteEventStore) -> Iterator[bytes]:
    dumps = orjson.dumps
    conn = store._conn()
    head = store.head().position
    after = 0
    while after < head:
        events = store.read_all(after=after, to=head, limit=_CHUNK)
        if not events:
            break
        last = events[-1].position
        commands = {row[5]: row for row in conn.execute(_COMMANDS, (after + 1, last)).fetchall()}
        refusals = conn.execute(_REFUSALS, (after, last - 1)).fetchall()
        waiting = 0
        for event in events:
            while waiting < len(refusals) and refusals[waiting][1] < event.position:
                yield dumps(_refusal(refusals[waiting]))
                waiting += 1
            command = commands.get(event.position)
            if command is not None and command[2] is not None:
                yield dumps(_command(command))
            yield dumps(event.to_json_dict())
        for row in refusals[waiting:]:
            yield dumps(_refusal(row))
        after = last
    for row in conn.execute(_REFUSALS, (head, head)).fetchall():
        yield dumps(_refusal(row))
    for row in conn.execute(_EMPTY_COMMANDS).fetchall():
        yield dumps(_command(row))
    for name, position, actor, created_at in conn.execute(_BOOKMARKS).fetchall():
        if position <= head:
            yield dumps(
                {
                    RECORD: "bookmark",
                    "name": name,
                    "position": position,
                    "actor": actor or "",
                    "created_at": created_at or "",
                }
            )
    for record in read_imports(conn):
        if record.last_position <= head:
            yield dumps(
                {
                    RECORD: "import",
                    "actor": record.actor,
                    "imported_at": record.imported_at,
                    "sha256": record.sha256,
                    "source": record.source,
                    "first_position": record.first_position,
                    "last_position": record.last_position,
                    "events": record.events,
                }
            )


def _command(row: tuple[Any, ...]) -> dict[str, Any]:
    command_id, command_type, payload, actor, recorded_at = row[:5]
    return {
        RECORD: "command",
        "command_id": command_id,
        "command_type": command_type,
        "payload": None if payload is None else orjson.loads(payload),
        "actor": actor,
        "recorded_at": recorded_at,
    }


def _refusal(row: tuple[Any, ...]) -> dict[str, Any]:
    recorded_at, at_position, actor, command_id, command_type, command, reason, code = row
    return {
        RECORD: "refusal",
        "recorded_at": recorded_at,
        "at_position": at_position,
        "actor": actor,
        "command_id": command_id,
        "command_type": command_type,
        "command": orjson.loads(command),
        "reason": reason,
        "code": code,
    }
