"""The export stream: every event as it is, with the records an audit also needs.

See `store.transfer.records` for the record kinds and where each is written. Read in
chunks by position up to the head as the export starts (like `iter_all`), so no read
transaction stays open for the whole export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import orjson

from domain.envelope import Refusal
from domain.ports import CommandRecord, EventStore
from store.transfer.records import RECORD

_CHUNK = 2000


def export_history(store: EventStore, out: IO[bytes]) -> int:
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


def _lines(store: EventStore) -> Iterator[bytes]:
    dumps = orjson.dumps
    head = store.head().position
    after = 0
    while after < head:
        events = store.read_all(after=after, to=head, limit=_CHUNK)
        if not events:
            break
        last = events[-1].position
        commands = {c.first_position: c for c in store.commands_between(after + 1, last)}
        refusals = store.refusals_between(after, last - 1)
        waiting = 0
        for event in events:
            while waiting < len(refusals) and refusals[waiting].at_position < event.position:
                yield dumps(_refusal(refusals[waiting]))
                waiting += 1
            command = commands.get(event.position)
            if command is not None and command.payload is not None:
                yield dumps(_command(command))
            yield dumps(event.to_json_dict())
        for refusal in refusals[waiting:]:
            yield dumps(_refusal(refusal))
        after = last
    for refusal in store.refusals_between(head, head):
        yield dumps(_refusal(refusal))
    for command in store.empty_commands():
        yield dumps(_command(command))
    for bookmark in store.bookmarks():
        if bookmark.position <= head:
            yield dumps(
                {
                    RECORD: "bookmark",
                    "name": bookmark.name,
                    "position": bookmark.position,
                    "actor": bookmark.actor,
                    "created_at": bookmark.created_at,
                }
            )
    for record in store.imports():
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


def _command(command: CommandRecord) -> dict[str, Any]:
    return {
        RECORD: "command",
        "command_id": command.command_id,
        "command_type": command.command_type,
        "payload": command.payload,
        "actor": command.actor,
        "recorded_at": command.recorded_at,
    }


def _refusal(refusal: Refusal) -> dict[str, Any]:
    return {
        RECORD: "refusal",
        "recorded_at": refusal.recorded_at,
        "at_position": refusal.at_position,
        "actor": refusal.actor,
        "command_id": refusal.command_id,
        "command_type": refusal.command_type,
        "command": refusal.command,
        "reason": refusal.reason,
        "code": refusal.code,
    }
