"""Import: a history is accepted only if the domain could have produced it.

One transaction, all or nothing. Each line is read lazily while the store writes it:
events must continue the chain exactly (`ChainExtender.recorded`: position head+1,
prev_hash the head's hash, hashes recomputing, versions in order) and must pass the
domain's rules (`domain.history_check`: metadata is text, data validates with its
model, each command replays through its real handler to exactly the recorded events).
Records (`store.transfer.records`) restore command payloads, refusals, bookmarks and
earlier import records. The import itself is recorded as an import record (who,
when, the file's SHA-256 and the positions it brought in; in SQLite the append-only
`imports` table). The first bad line raises InvalidInput naming the line and the rule;
nothing is written then. It runs on the store roles only (`EventWriter.load_recorded`
writes events, refusals and, through `ImportWrites`, the records in one transaction),
so every store imports the same way.
"""

from __future__ import annotations

import io
import operator
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from orjson import JSONDecodeError, loads

from domain.clock import Clock, SystemClock
from domain.description import DomainDescription
from domain.envelope import Bookmark, Head, RecordedEvent, Refusal
from domain.errors import InvalidInput
from domain.history_check import HistoryCheck, HistoryRefused, OpenCommand
from domain.ports import CommandRecord, EventStore, ImportRecord, ImportWrites, RecordedItem
from domain.text import TEXT_ONLY, plain_texts
from store import bookmarks as bookmark_rules
from store.hashchain import EventRejected
from store.jsonl import MAX_LINE_BYTES, EventLines
from store.transfer.hashing_reader import HashingReader
from store.transfer.records import (
    COMMAND_FIELDS,
    RECORD,
    check_record,
    int_field,
    text_field,
)
from store.transfer.replay_process import SPLIT_MIN_BYTES, ReplayChild


@dataclass(frozen=True)
class ImportResult:
    """What an import brought in."""

    head: Head
    events: int
    record: ImportRecord
    restored: dict[str, int]
    """How many records of each kind were restored (command, refusal, bookmark, import)."""


_COMMAND_KEYS = frozenset((RECORD, *COMMAND_FIELDS))
_command_texts = operator.itemgetter("command_id", "command_type", "actor", "recorded_at")


def _plain(texts: tuple[Any, ...]) -> bool:
    """A command record's texts as `text_field` takes them, decided at once: each a str,
    printable ASCII and not blank (`plain_texts`; anything else is left to `text_field`)."""
    return TEXT_ONLY.issuperset(map(type, texts)) and plain_texts(texts, sys.maxsize)


@dataclass(slots=True)
class _Pending:
    command_id: str
    command_type: str
    payload: dict[str, Any] | None
    actor: str
    recorded_at: str
    line: int


Progress = Callable[[int, int], None]
"""`progress(events, bytes)`: how many events and bytes of the file an import has read."""

PARSE_BATCH = 256
"""Lines parsed together before they are handled (see `_Import.items`)."""

PROGRESS_EVERY = 2_000
"""Events between two calls of an import's `progress`."""


@dataclass
class _Import:
    """The state of one import while its lines stream into the store."""

    lines: EventLines
    check: HistoryCheck | OpenCommand
    """The `HistoryCheck` replaying each command, or the load's `OpenCommand` when a
    replay child reads and replays (`store.transfer.replay_process`)."""
    base: int
    name: str
    progress: Callable[[int], None] | None = None
    """Called with the count of events read, every `PROGRESS_EVERY` events."""
    event_lines: list[int] = field(default_factory=list)
    pending: _Pending | None = None
    empty_commands: list[_Pending] = field(default_factory=list)
    command_records: set[str] = field(default_factory=set)
    bookmarks: list[tuple[int, str, int, str, str]] = field(default_factory=list)
    imports: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    restored: dict[str, int] = field(
        default_factory=lambda: {"command": 0, "refusal": 0, "bookmark": 0, "import": 0}
    )
    raw: bytes = b""
    """The line (as read) of the event `items` yielded last: what a replay child sends."""

    def items(self) -> Iterator[RecordedItem]:
        """Each refusal record and each event (with its command's payload, or None), in
        the file's order, checked; raises InvalidInput at the first bad line.

        Lines are read `PARSE_BATCH` at a time (their JSON, shapes and records) before
        their events are offered to the check and handed on: the interpreter runs the
        reading code, then the replay's, each while it is hot (about 10% less time than
        line by line). The order is unchanged: `lines.line` is each item's line while it
        is offered and handed on, and a line that does not read is refused only once
        every item before it has been (and loaded by the caller)."""
        lines, check, offer = self.lines, self.check, self.check.offer
        read: list[tuple[int, RecordedItem, bytes]] = []
        for failure in self._read_batches(read):
            for line, item, raw in read:
                lines.line = line
                if type(item) is tuple:
                    self.raw = raw
                    try:
                        offer(item[0], item[1])
                    except HistoryRefused as exc:
                        raise self.refused(exc) from None
                yield item
            if failure is not None:
                lines.line = failure[0]
                raise failure[1]
        self._close_pending()
        try:
            check.finish()
        except HistoryRefused as exc:
            raise self.refused(exc) from None
        if not self.event_lines:
            prefix = f"{self.name}: " if self.name else ""
            what = "has no events" if any(self.restored.values()) else "is empty"
            raise InvalidInput(f"{prefix}the file {what}: nothing to import")

    def _read_batches(
        self, read: list[tuple[int, RecordedItem, bytes]]
    ) -> Iterator[tuple[int, InvalidInput] | None]:
        """Fill `read` with the next lines' items (each with its line number and its
        bytes) and yield each time it holds a batch: None, or the refusal of the line that
        ended the reading (then the last); `lines.line` is back where the reading stopped
        after each."""
        lines, event_lines, progress = self.lines, self.event_lines, self.progress
        raw_lines, event_of = lines.raw_lines(), lines.event_of
        while True:
            read.clear()
            try:
                for raw in raw_lines:
                    try:  # `lines.object_of(raw)`, which names the fault of any other line
                        value = loads(raw)
                    except JSONDecodeError:
                        value = None
                    if type(value) is not dict:
                        value = lines.object_of(raw)
                    if RECORD in value:
                        refusal = self._record(value)
                        if refusal is not None:
                            read.append((lines.line, refusal, raw))
                        continue
                    event = event_of(value)
                    line = lines.line
                    event_lines.append(line)
                    if progress is not None and len(event_lines) % PROGRESS_EVERY == 0:
                        progress(len(event_lines))
                    payload = None if self.pending is None else self._payload_for(event)
                    read.append((line, (event, payload), raw))
                    if len(read) >= PARSE_BATCH:
                        break
                else:
                    end = lines.line
                    yield None
                    lines.line = end
                    return
            except InvalidInput as exc:
                yield (lines.line, exc)
                return
            end = lines.line
            yield None
            lines.line = end

    def adopt(self, finished: dict[str, Any]) -> str:
        """Take the records a replay child's import read (`_finished`), to write them
        here; returns the file's SHA-256 it computed."""
        self.empty_commands = finished["empty_commands"]
        self.bookmarks = finished["bookmarks"]
        self.imports = finished["imports"]
        self.restored = finished["restored"]
        return str(finished["sha256"])

    def explain(self, exc: InvalidInput) -> InvalidInput:
        """The import's refusal for a refusal of the load: a chain refusal
        (`EventRejected`) names an offered event whose data does not validate first,
        then its own event's line; any other refusal already names its line."""
        if not isinstance(exc, EventRejected):
            return exc
        try:
            self.check.decode_offered()
        except HistoryRefused as invalid:
            return self.refused(invalid)
        return self.refused(exc)

    def refused(self, exc: HistoryRefused | EventRejected) -> InvalidInput:
        """The refusal naming the line of the event it is about."""
        index = min(exc.index, len(self.event_lines) - 1)
        return self.lines.fail(exc.detail, self.event_lines[index] if index >= 0 else None)

    # -- records ---------------------------------------------------------------------------
    def _record(self, value: dict[str, Any]) -> Refusal | None:
        """Take a record line: `_checked_record`, with a well-formed command record (most
        records) taken at once, as it takes it."""
        texts: tuple[Any, ...] = _command_texts(value) if value.keys() == _COMMAND_KEYS else ("",)
        payload = value.get("payload")
        if (
            value[RECORD] == "command"
            and _plain(texts)
            and (payload is None or type(payload) is dict)
            and texts[0] not in self.command_records
        ):
            self._close_pending()
            command_id, command_type, actor, at = texts
            self.pending = _Pending(command_id, command_type, payload, actor, at, self.lines.line)
            self.command_records.add(command_id)
            self.restored["command"] += 1
            return None
        return self._checked_record(value)

    def _checked_record(self, value: dict[str, Any]) -> Refusal | None:
        lines = self.lines
        try:
            kind = check_record(value)
            self._close_pending()
            if kind == "command":
                self.pending = self._command(value)
                if self.pending.command_id in self.command_records:
                    raise InvalidInput(
                        f"command {self.pending.command_id} has a second command record"
                    )
                self.command_records.add(self.pending.command_id)
            elif kind == "refusal":
                return self._refusal(value)
            elif kind == "bookmark":
                name = bookmark_rules.check_name(value["name"])
                position = int_field(value, "position", kind)
                actor = text_field(value, "actor", kind, empty=True)
                created = text_field(value, "created_at", kind, empty=True)
                self.bookmarks.append((lines.line, name, position, actor, created))
            else:
                for name in ("actor", "imported_at", "sha256"):
                    text_field(value, name, kind)
                text_field(value, "source", kind, empty=True)
                for name in ("first_position", "last_position", "events"):
                    int_field(value, name, kind)
                self.imports.append((lines.line, value))
        except InvalidInput as exc:
            raise lines.fail(exc.message) from None
        self.restored[kind] += 1
        return None

    def _command(self, value: dict[str, Any]) -> _Pending:
        payload = value["payload"]
        if payload is not None and not isinstance(payload, dict):
            raise InvalidInput("command record: payload must be a JSON object or null")
        texts = _command_texts(value)
        if _plain(texts):  # the common case at once
            command_id, command_type, actor, at = texts
            return _Pending(command_id, command_type, payload, actor, at, self.lines.line)
        return _Pending(
            text_field(value, "command_id", "command"),
            text_field(value, "command_type", "command"),
            payload,
            text_field(value, "actor", "command"),
            text_field(value, "recorded_at", "command"),
            self.lines.line,
        )

    def _refusal(self, value: dict[str, Any]) -> Refusal:
        kind = "refusal"
        at = int_field(value, "at_position", kind)
        expected = self.base + len(self.event_lines)
        if at != expected:
            raise InvalidInput(
                f"refusal record: at_position is {at} but it follows position {expected}"
            )
        command = value["command"]
        if not isinstance(command, dict):
            raise InvalidInput("refusal record: command must be a JSON object")
        self.restored[kind] += 1
        return Refusal(
            recorded_at=text_field(value, "recorded_at", kind),
            actor=text_field(value, "actor", kind),
            command_id=text_field(value, "command_id", kind),
            command_type=text_field(value, "command_type", kind),
            command=command,
            reason=text_field(value, "reason", kind),
            code=text_field(value, "code", kind, empty=True),
            at_position=at,
        )

    def _payload_for(self, event: RecordedEvent) -> dict[str, Any] | None:
        pending = self.pending
        if pending is None:
            return None
        self.pending = None
        if event.metadata.get("command_id") != pending.command_id:
            raise self.lines.fail(
                f"the command record for {pending.command_id} (line {pending.line}) must be "
                "followed by that command's events",
            )
        if event.metadata.get("command_type") != pending.command_type:
            raise self.lines.fail(
                f"metadata.command_type {event.metadata.get('command_type')!r} differs from "
                f"the command record's {pending.command_type!r} (line {pending.line})"
            )
        return pending.payload

    def _close_pending(self) -> None:
        """A command record not followed by its events: a command that recorded none."""
        if self.pending is not None:
            self.empty_commands.append(self.pending)
            self.pending = None

    # -- the records written after the events, in the same transaction -------------------
    def finish(
        self, writes: ImportWrites, head: Head, *, actor: str, at: str, sha: str, source: str
    ) -> ImportRecord:
        for pending in self.empty_commands:
            if writes.command_exists(pending.command_id):
                raise self.lines.fail(
                    f"command {pending.command_id} is already recorded", pending.line
                )
            writes.add_empty_command(
                CommandRecord(
                    pending.command_id,
                    pending.command_type,
                    pending.payload,
                    pending.actor,
                    pending.recorded_at,
                )
            )
        for line, name, position, by, created in self.bookmarks:
            if position > head.position:
                raise self.lines.fail(
                    f"bookmark {name} is at position {position}, after the head {head.position}",
                    line,
                )
            if writes.bookmark_exists(name):
                raise self.lines.fail(
                    f"bookmark {name} already exists in this database; delete it first", line
                )
            writes.add_bookmark(Bookmark(name, position, by, created))
        new_id = writes.last_import_id() + len(self.imports) + 1
        for _, value in self.imports:
            writes.add_import(
                ImportRecord(
                    0,
                    value["actor"],
                    value["imported_at"],
                    value["sha256"],
                    value["source"],
                    value["first_position"],
                    value["last_position"],
                    value["events"],
                    new_id,
                )
            )
        events = len(self.event_lines)
        record = ImportRecord(
            new_id, actor, at, sha, source, self.base + 1, head.position, events, None
        )
        return writes.add_import(record)


def import_history(
    store: EventStore,
    source: IO[bytes],
    *,
    domain: DomainDescription,
    actor: str,
    name: str = "",
    max_line_bytes: int = MAX_LINE_BYTES,
    clock: Clock | None = None,
    progress: Progress | None = None,
    replay_process: bool | None = None,
) -> ImportResult:
    """Import an export into `store`, checked by `domain`'s rules, all or nothing.

    `actor` is who imports (kept in the import record with the file's SHA-256, and
    the time by `clock`, the wall clock by default); `name` names the file in messages
    and in the record. Raises InvalidInput naming the first bad line; the store is then
    unchanged. `store` is any store in every role (`domain.ports.EventStore`).
    `progress(events, bytes)` is told how far the reading got, every
    `PROGRESS_EVERY` events read. `replay_process`: read and replay in a second
    process that feeds the load (`store.transfer.replay_process`); by default when the
    input holds `SPLIT_MIN_BYTES` or more and the machine has two processors or more.
    The result and any refusal are the same either way.
    """
    reader = HashingReader(source)
    buffered = io.BufferedReader(reader, 1 << 16)
    lines = EventLines(buffered, name=name, max_line_bytes=max_line_bytes)
    before = store.head()
    check = HistoryCheck(domain.model, domain.command_fields)
    for stored in store.iter_all(to=before.position):
        try:
            check.absorb(stored)
        except InvalidInput as exc:
            raise InvalidInput(
                f"position {stored.position} in the database does not replay ({exc.message}); "
                "an import cannot be checked on top of it: import into a new database"
            ) from None
    report = None if progress is None else (lambda events: progress(events, reader.count))
    state = _Import(lines, check, before.position, name, report)
    load, child = state, None
    if _split(reader, replay_process):
        # The child reads and replays (`state`, as it is); this process loads what it
        # sends, with an `_Import` of its own for the records (`ReplayChild.items`).
        child = ReplayChild(
            state,
            lambda: _finished(state, reader),
            lambda: reader.count,
        )
        formatter = EventLines(io.BytesIO(b""), name=name, max_line_bytes=max_line_bytes)
        load = _Import(formatter, OpenCommand(domain.model), before.position, name)
        items = child.items(load, progress, PROGRESS_EVERY)
    else:
        items = state.items()
    made: list[ImportRecord] = []

    def finish(writes: ImportWrites, head: Head) -> None:
        sha = reader.sha256.hexdigest()
        if child is not None:
            sha = load.adopt(child.finished)
        if head.position != before.position + len(load.event_lines):
            raise InvalidInput("another writer appended during the import; try again")
        made.append(
            load.finish(
                writes,
                head,
                actor=actor,
                at=(clock or SystemClock()).now(),
                sha=sha,
                source=name,
            )
        )

    try:
        head = store.load_recorded(items, finish)
    except InvalidInput as exc:
        raise load.explain(exc) from None
    finally:
        if child is not None:
            child.close()
    return ImportResult(head, len(load.event_lines), made[0], dict(load.restored))


def _finished(state: _Import, reader: HashingReader) -> dict[str, Any]:
    """What the load needs of a replay child's import once it has read every line: the
    records it writes last, and the file's digest (see `_Import.adopt`)."""
    return {
        "empty_commands": state.empty_commands,
        "bookmarks": state.bookmarks,
        "imports": state.imports,
        "restored": state.restored,
        "sha256": reader.sha256.hexdigest(),
    }


def _split(reader: HashingReader, wanted: bool | None) -> bool:
    """Whether to replay in a second process (see `import_history`)."""
    if wanted is False or not hasattr(os, "fork"):
        return False
    if wanted:
        return True
    if threading.active_count() > 1:
        # Forked from a process with other threads, the child would hold a copy of any
        # lock one of them held (the CLI has none when it imports): not by default.
        return False
    affinity = getattr(os, "sched_getaffinity", None)
    processors = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return processors >= 2 and reader.at_least(SPLIT_MIN_BYTES)
