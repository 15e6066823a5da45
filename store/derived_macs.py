"""HMACs on derived data: snapshots, projector checkpoints and commands rows.

These tables are not history but are shown as truth: a snapshot answers `state --at`,
a checkpoint says which events the read models hold, a commands row turns a command
into a duplicate. With the chain's HMAC key, each row carries an HMAC (column `mac`,
schema step 8) that binds it to the position and the event hash it claims, so an edit
by someone without the key is caught when the row is used. Without a key they carry
NULL and only `verify --deep` (which recomputes them, `store.deep_check`) can tell.

One sub-key per purpose is derived from the chain key (`HMAC(key, "eventscope
snapshot v1")`, ...), so a MAC made for one kind of row never verifies as another.
A checkpoint's MAC does not cover the read-model rows (they change every batch); the
deep check compares those with a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import orjson

from domain.envelope import GENESIS_HASH, RecordedEvent
from domain.errors import IntegrityError
from domain.text import escape

if TYPE_CHECKING:
    from domain.ports import Snapshot

REBUILD_HINT = "run 'eventscope rebuild'"
DEEP_HINT = "the commands table was edited; run 'eventscope verify --deep'"


class DerivedDataForged(IntegrityError):
    """A derived row (snapshot, checkpoint, commands row) does not check out."""


def _sub_key(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, f"eventscope {purpose} v1".encode(), hashlib.sha256).digest()


def _mac(key: bytes, fields: Sequence[object]) -> str:
    return hmac.new(key, orjson.dumps(list(fields)), hashlib.sha256).hexdigest()


class DerivedMacs:
    """The MACs of derived rows, from sub-keys of the chain key `key`."""

    def __init__(self, key: bytes) -> None:
        self._snapshot = _sub_key(key, "snapshot")
        self._checkpoint = _sub_key(key, "checkpoint")
        self._command = _sub_key(key, "command")

    @classmethod
    def from_key(cls, key: bytes | None) -> DerivedMacs | None:
        """The MACs for chain key `key` (None for a plain chain, or a keyed one opened
        without its key)."""
        return None if key is None else cls(key)

    def snapshot(self, key: str, position: int, event_hash: str, encoding: str, blob: bytes) -> str:
        """The MAC of a snapshot manifest (its chunks are named in it by digest)."""
        return _mac(self._snapshot, [key, position, event_hash, encoding, blob.hex()])

    def of_snapshot(self, snapshot: Snapshot) -> str:
        """The MAC of `snapshot`."""
        return self.snapshot(
            snapshot.key, snapshot.position, snapshot.event_hash, snapshot.encoding, snapshot.blob
        )

    def checkpoint(self, name: str, position: int, fingerprint: str, event_hash: str) -> str:
        """The MAC of projector `name`'s checkpoint at `position` (`event_hash` is there)."""
        return _mac(self._checkpoint, [name, position, fingerprint, event_hash])

    def command(self, row: Sequence[object], event_hash: str) -> str:
        """The MAC of a commands row (its 7 columns) whose last event has `event_hash`."""
        return _mac(self._command, [*row[:7], event_hash])


def event_hash_at(conn: sqlite3.Connection, position: int) -> str:
    """The hash of the event at `position` ("" when there is none; genesis at 0)."""
    if position == 0:
        return GENESIS_HASH
    row = conn.execute("SELECT hash FROM events WHERE position = ?", (position,)).fetchone()
    return str(row[0]) if row is not None else ""


def same(mac: object, expected: str) -> bool:
    """True when stored `mac` (maybe NULL) is `expected`, compared in constant time."""
    return isinstance(mac, str) and hmac.compare_digest(mac, expected)


# -- commands rows -------------------------------------------------------------------------

_COMMAND_ROW = (
    "SELECT command_id, command_type, payload, actor, recorded_at, first_position, "
    "last_position, mac FROM commands WHERE command_id = ?"
)


def sign_commands(
    conn: sqlite3.Connection,
    macs: DerivedMacs | None,
    rows: Sequence[Sequence[object]],
    hashes: Mapping[int, str] | None = None,
) -> list[tuple[object, ...]]:
    """Commands rows with their MAC appended (as they are without a key); their events
    must already be written in this transaction, or their hashes be in `hashes`
    (position -> hash: the rows the caller is writing, so nothing is read back)."""
    if macs is None:
        return [tuple(row) for row in rows]
    known = hashes or {}
    return [
        (
            *row,
            macs.command(row, known.get(int(str(row[6]))) or event_hash_at(conn, int(str(row[6])))),
        )
        for row in rows
    ]


def command_problem(
    command_id: str, first: int, last: int, events: Sequence[RecordedEvent]
) -> str | None:
    """Why a commands row claiming `first..last` does not match `events` (those in that
    range carrying its id), or None when it does."""
    if first == 0 and last == 0:
        return None  # a command that recorded no events
    positions = [e.position for e in events]
    if positions != list(range(first, last + 1)):
        where = f"#{first}..#{last}" if first != last else f"#{first}"
        return (
            f"the commands row of command id {escape(command_id)} claims {where}, but "
            f"{'no event' if not positions else 'not every event'} there carries that id"
        )
    return None


def check_command(
    conn: sqlite3.Connection,
    macs: DerivedMacs | None,
    command_id: str,
    first: int,
    last: int,
    events: Sequence[RecordedEvent],
) -> None:
    """Refuse to treat a commands row as a duplicate unless it checks out.

    Its events must be at the positions it claims (always), and with a key its MAC
    must verify. Raises `DerivedDataForged`: a duplicate that is not one is corruption,
    never a success.
    """
    problem = command_problem(command_id, first, last, events)
    if problem is None and macs is not None:
        row = conn.execute(_COMMAND_ROW, (command_id,)).fetchone()
        event_hash = events[-1].hash if events else event_hash_at(conn, last)
        if row is None or not same(row[7], macs.command(row, event_hash)):
            problem = f"the commands row of command id {escape(command_id)} does not match its HMAC"
    if problem is not None:
        raise DerivedDataForged(f"{problem}: {DEEP_HINT}")


# -- snapshots -----------------------------------------------------------------------------


def snapshot_mac(macs: DerivedMacs | None, snapshot: Snapshot) -> str | None:
    """The MAC stored with `snapshot` (None without a key)."""
    return None if macs is None else macs.of_snapshot(snapshot)


def check_snapshot(macs: DerivedMacs, snapshot: Snapshot, mac: object) -> None:
    """Refuse a snapshot whose stored MAC is not its own."""
    if not same(mac, macs.of_snapshot(snapshot)):
        raise DerivedDataForged(
            f"snapshot at #{snapshot.position} does not match its HMAC: {REBUILD_HINT}"
        )


def check_chunks(chunks: Mapping[str, bytes]) -> None:
    """Refuse a snapshot chunk whose content is not what its digest (in the
    authenticated manifest) names."""
    # Imported here: appends (`exec`) sign commands rows and read no snapshot.
    import zlib

    from domain.snapshots import chunk_digest
    from store.snapshot_format import chunk_json

    for digest, blob in chunks.items():
        try:
            actual = chunk_digest(chunk_json(blob))
        except zlib.error:
            actual = ""
        if actual != digest:
            raise DerivedDataForged(
                f"snapshot chunk {digest} does not match its digest: {REBUILD_HINT}"
            )


# -- projector checkpoints -----------------------------------------------------------------


def checkpoint_mac(
    conn: sqlite3.Connection, macs: DerivedMacs | None, name: str, position: int, fingerprint: str
) -> str | None:
    """The MAC to store with projector `name`'s checkpoint (None without a key)."""
    if macs is None:
        return None
    return macs.checkpoint(name, position, fingerprint, event_hash_at(conn, position))


def check_checkpoint(
    conn: sqlite3.Connection, macs: DerivedMacs | None, name: str, position: int, fingerprint: str
) -> None:
    """With a key, refuse projector `name`'s checkpoint unless its MAC verifies (call in
    the transaction that reads it)."""
    if macs is None:
        return
    row = conn.execute("SELECT mac FROM projector_checkpoint WHERE name = ?", (name,)).fetchone()
    expected = checkpoint_mac(conn, macs, name, position, fingerprint)
    if row is None or expected is None or not same(row[0], expected):
        raise DerivedDataForged(
            f"projector checkpoint of {name} at #{position} does not match its HMAC: {REBUILD_HINT}"
        )
