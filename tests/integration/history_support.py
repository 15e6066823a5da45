"""Histories written to JSON Lines files with valid hashes, possible or not.

`HistoryWriter` decides commands with a domain's real handlers (`InMemoryDecider`),
and can also forge an event the rules would never emit. `write_file` chains them
with the store's own hashing, so only the domain's rules can tell a forged event.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from domain.decider import InMemoryDecider, event_metadata
from domain.description import DomainDescription
from domain.envelope import Head, PendingEvent, Refusal
from store.hashchain import GENESIS_HASH, ChainExtender, event_from_row

START = "2026-01-05T09:00:00.000000Z"


class HistoryWriter:
    """Builds a history in memory, by the rules or (with `forge`) against them."""

    def __init__(self, domain: DomainDescription, seed: int = 1) -> None:
        self.domain = domain
        self.decider = InMemoryDecider(domain.model, random.Random(seed))
        self.decider.recorded_at = START
        self._forged = 0

    @property
    def events(self) -> list[PendingEvent]:
        return [e for e in self.decider.out if isinstance(e, PendingEvent)]

    def run(self, command_type: str, actor: str = "ann", **fields: Any) -> None:
        """Decide the command with the real handler; it must be accepted."""
        command = self.domain.model.parse_command(command_type, fields)
        assert self.decider.execute(actor, command) is not None, self.decider.out[-1]

    def forge(
        self,
        stream_id: str,
        type_: str,
        data: dict[str, Any],
        command_type: str,
        *,
        metadata: dict[str, Any] | None = None,
        stream_type: str | None = None,
        schema_version: int = 0,
        same_command: bool = False,
    ) -> None:
        """Append an event no handler decided (`same_command`: in the previous command)."""
        decider = self.decider
        version = decider.versions.get(stream_id, 0) + 1
        decider.versions[stream_id] = version
        if same_command:
            meta = dict(self.events[-1].metadata)
        else:
            self._forged += 1
            command_id = f"forged-{self._forged}"
            meta = event_metadata("mallory", command_id, command_type, "", "")
        if metadata is not None:
            meta = {**meta, **metadata}
        model = self.domain.model.catalog.types.get(type_)
        decider.out.append(
            PendingEvent(
                event_id=f"forged-event-{len(decider.out)}",
                stream_id=stream_id,
                stream_type=stream_type or stream_id.split("-", 1)[0],
                version=version,
                type=type_,
                data=data,
                metadata=meta,
                recorded_at=decider.recorded_at,
                schema_version=schema_version or (model.schema_version if model else 1),
            )
        )


def chained_lines(events: list[PendingEvent | Refusal]) -> list[bytes]:
    """Each event as an export line (the events-only format), hashed into a chain."""
    extender = ChainExtender(Head(0, GENESIS_HASH), "", None, stream_version=lambda _: 0)
    lines = []
    for event in events:
        if isinstance(event, PendingEvent):
            plain = replace(event, command=None)
            lines.append(orjson.dumps(event_from_row(extender.pending(plain)).to_json_dict()))
    return lines


def write_file(path: Path, events: list[PendingEvent | Refusal]) -> Path:
    path.write_bytes(b"\n".join(chained_lines(events)) + b"\n")
    return path


def database_digest(db: Path) -> str:
    """A digest of every row of every table: equal digests, unchanged database."""
    if not db.exists():
        return ""
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    return hashlib.sha256(dump.encode()).hexdigest()
