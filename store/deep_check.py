"""`verify --deep`: recompute every derived table from the events and compare.

Snapshots, read models, projector checkpoints and commands rows are derived from the
events, and shown as truth. Without a key nothing stops someone with the file from
editing them, so this check replays the history once, from the first event, and
compares on the way:

- every snapshot of the current projection definitions, decoded, with the replay at its
  position (and its event hash with the event there);
- the read models with the replay at their checkpoint (a checkpoint moved, or a row
  edited, shows as a difference);
- every commands row with the events that carry its command id: they must be exactly
  the positions it claims, and every command id in the events needs its row.

With a key it also checks every HMAC (`store.derived_macs`). It reads everything in one
read transaction, so a writer going on meanwhile never shows as a difference, and it
stops at the first mismatch (`DeepReport.problem`). Cost: one replay of every event
plus one decode per snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from domain.model import EventCatalog
from domain.ports import Snapshot
from domain.projection import Projection, StateMap, initial_states
from domain.snapshots import decode_states
from domain.text import escape
from store import read_models as rm
from store.connection import connect
from store.deep_commands import CommandRowMismatch, CommandRows
from store.derived_macs import DerivedDataForged, DerivedMacs, check_checkpoint, check_chunks, same
from store.replay import FoldFailure, fold_rows
from store.snapshot_format import codec_for, stored_snapshot_key
from store.sqlite.read_models import SqliteReadModelTables
from store.sqlite.schema_check import schema_problem

_EVENTS = (
    "SELECT position, event_id, stream_id, stream_type, version, type, schema_version, "
    "data, metadata, recorded_at, prev_hash, hash, json_extract(metadata, '$.command_id') "
    "FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
)
"""`store.replay.SELECT_EVENTS`' columns plus the command id (which `fold_rows` ignores)."""
_BATCH = 5000


@dataclass(frozen=True)
class DeepProblem:
    """The first derived row that does not match the events."""

    kind: str
    """`schema`, `snapshot`, `read_models`, `checkpoint`, `commands` or `replay`."""
    message: str
    position: int | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "position": self.position}


@dataclass(frozen=True)
class DeepReport:
    """What `deep_check` compared, and the first mismatch (None when all matched)."""

    problem: DeepProblem | None
    events: int = 0
    snapshots: int = 0
    commands: int = 0
    read_models_position: int | None = None
    """The checkpoint the read models were compared at (None: not compared)."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """What was not compared, and why (no read models yet, other definitions...)."""

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> str:
        if self.problem is not None:
            return f"deep check failed: {self.problem.message}"
        where = (
            f"read models at #{self.read_models_position}"
            if self.read_models_position is not None
            else "read models not compared"
        )
        return (
            f"deep check ok: {self.events:,} events replayed; {self.snapshots:,} snapshots, "
            f"{self.commands:,} commands rows, {where}"
        )

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> DeepReport:
        """The report `to_json_dict` wrote (read back from a child process)."""
        problem = data.get("problem")
        return cls(
            None
            if not problem
            else DeepProblem(str(problem["kind"]), str(problem["message"]), problem["position"]),
            int(data.get("events", 0)),
            int(data.get("snapshots", 0)),
            int(data.get("commands", 0)),
            data.get("read_models_position"),
            tuple(str(note) for note in data.get("notes", ())),
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problem": None if self.problem is None else self.problem.to_json_dict(),
            "events": self.events,
            "snapshots": self.snapshots,
            "commands": self.commands,
            "read_models_position": self.read_models_position,
            "notes": list(self.notes),
        }


class _Mismatch(Exception):
    def __init__(self, problem: DeepProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def deep_check(
    path: Path,
    projections: Sequence[Projection],
    catalog: EventCatalog,
    *,
    macs: DerivedMacs | None = None,
    projector: str = "main",
    busy_timeout_ms: int = 5000,
) -> DeepReport:
    """Replay the events of the database at `path` and compare every derived table."""
    conn = connect(path, "ro", busy_timeout_ms)
    try:
        conn.execute("BEGIN")
        return _DeepCheck(conn, tuple(projections), catalog, macs, projector).run()
    finally:
        conn.close()


class _DeepCheck:
    def __init__(
        self,
        conn: sqlite3.Connection,
        projections: tuple[Projection, ...],
        catalog: EventCatalog,
        macs: DerivedMacs | None,
        projector: str,
    ) -> None:
        self.conn = conn
        self.projections = projections
        self.catalog = catalog
        self.macs = macs
        self.projector = projector
        self.key = stored_snapshot_key(projections)
        self.notes: list[str] = []
        self.events = self.snapshots = 0
        self.read_models_at: int | None = None
        self.commands = CommandRows(conn, macs)

    def run(self) -> DeepReport:
        try:
            problem = schema_problem(self.conn)
            if problem is not None:
                raise _Mismatch(DeepProblem("schema", problem))
            self._replay()
            self.commands.finish()
        except _Mismatch as mismatch:
            return self._report(mismatch.problem)
        except CommandRowMismatch as mismatch:
            return self._report(DeepProblem("commands", mismatch.message, mismatch.position))
        return self._report(None)

    def _report(self, problem: DeepProblem | None) -> DeepReport:
        return DeepReport(
            problem,
            self.events,
            self.snapshots,
            self.commands.checked,
            self.read_models_at if problem is None else None,
            tuple(self.notes),
        )

    # -- the replay --------------------------------------------------------------------

    def _replay(self) -> None:
        head_row = self.conn.execute("SELECT max(position) FROM events").fetchone()
        head = int(head_row[0] or 0)
        snapshots = self._snapshot_rows()
        read_models = self._read_models(head)
        beyond = [p for p in snapshots if p > head]
        if beyond:
            raise _Mismatch(
                DeepProblem("snapshot", f"snapshot at #{beyond[0]} is beyond the head #{head}")
            )
        targets = sorted({*snapshots, *([read_models[0]] if read_models else []), head})
        states = initial_states(self.projections)
        position = 0
        for target in targets:
            for rows in self._rows(position, target):
                try:
                    fold_rows(rows, self.projections, states, self.catalog)
                except FoldFailure as failure:
                    error = failure.error
                    raise _Mismatch(DeepProblem("replay", str(error), error.position)) from None
                self.commands.feed(rows)
                self.events += len(rows)
                position = rows[-1][0]
            if position != target:
                break  # a gap in the events: `verify` names it
            for snapshot in snapshots.get(target, ()):
                self._check_snapshot(target, snapshot, states)
            if read_models is not None and read_models[0] == target:
                self._compare(
                    states,
                    read_models[1],
                    "read_models",
                    f"the read models do not match a replay to their checkpoint #{target}",
                    target,
                )
                self.read_models_at = target

    def _rows(self, after: int, to: int) -> Iterator[list[Any]]:
        while after < to:
            rows = self.conn.execute(_EVENTS, (after, to, _BATCH)).fetchall()
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    # -- snapshots -----------------------------------------------------------------------

    def _snapshot_rows(self) -> dict[int, list[tuple[Any, ...]]]:
        found: dict[int, list[tuple[Any, ...]]] = {}
        try:
            rows = self.conn.execute(
                "SELECT position, event_hash, encoding, blob, mac FROM snapshots "
                "WHERE key = ? ORDER BY position",
                (self.key,),
            ).fetchall()
        except sqlite3.OperationalError:
            return found  # no snapshot table yet
        for row in rows:
            found.setdefault(int(row[0]), []).append(tuple(row))
        return found

    def _check_snapshot(self, position: int, row: tuple[Any, ...], states: StateMap) -> None:
        _, event_hash, encoding, blob, mac = row
        hash_row = self.conn.execute(
            "SELECT hash FROM events WHERE position = ?", (position,)
        ).fetchone()
        if hash_row is None or hash_row[0] != event_hash:
            raise _Mismatch(
                DeepProblem(
                    "snapshot",
                    f"snapshot at #{position} was taken after another event than the one there",
                    position,
                )
            )
        snapshot = Snapshot(self.key, position, str(event_hash), str(encoding), bytes(blob))
        if self.macs is not None and not same(mac, self.macs.of_snapshot(snapshot)):
            raise _Mismatch(
                DeepProblem(
                    "snapshot", f"snapshot at #{position} does not match its HMAC", position
                )
            )
        try:
            codec = codec_for(snapshot.encoding)
            decoded = decode_states(snapshot.encoding, snapshot.blob, self._chunks, None, codec)
        except DerivedDataForged as forged:
            message = f"snapshot at #{position}: {forged.message}"
            raise _Mismatch(DeepProblem("snapshot", message, position)) from None
        except Exception as exc:  # any damage: zlib, JSON, shape
            raise _Mismatch(
                DeepProblem(
                    "snapshot", f"snapshot at #{position} cannot be decoded ({exc})", position
                )
            ) from None
        self._compare(
            states, decoded, "snapshot", f"snapshot at #{position} differs from a replay", position
        )
        self.snapshots += 1

    def _chunks(self, digests: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for start in range(0, len(digests), 500):
            batch = list(digests[start : start + 500])
            marks = ",".join("?" * len(batch))
            for digest, blob in self.conn.execute(
                f"SELECT digest, blob FROM snapshot_chunks WHERE key = ? AND digest IN ({marks})",
                (self.key, *batch),
            ):
                found[str(digest)] = bytes(blob)
        check_chunks(found)  # content-addressed: a chunk must match its name, key or not
        return found

    # -- read models ---------------------------------------------------------------------

    def _read_models(self, head: int) -> tuple[int, StateMap] | None:
        """(checkpoint position, the persisted states) when they can be compared."""
        checkpoint = rm.read_checkpoint(self.conn, self.projector)
        fingerprint, _ = rm.fingerprint(self.projections)
        if checkpoint is None:
            self.notes.append("no read models yet (run 'eventscope project')")
            return None
        if checkpoint.fingerprint != fingerprint:
            self.notes.append("the read models were built by other projection definitions")
            return None
        position = checkpoint.position
        if position > head:
            raise _Mismatch(
                DeepProblem(
                    "checkpoint",
                    f"projector checkpoint at #{position} is beyond the head #{head}",
                    position,
                )
            )
        try:
            check_checkpoint(self.conn, self.macs, self.projector, position, fingerprint)
        except DerivedDataForged as forged:
            raise _Mismatch(DeepProblem("checkpoint", forged.message, position)) from None
        tables = rm.existing_tables(self.conn)
        states: StateMap = {}
        for projection in self.projections:
            if rm.rows_table(projection.name) in tables:
                states[projection.name] = rm.read_state(
                    SqliteReadModelTables(self.conn, None), projection
                )[0]
            else:
                states[projection.name] = projection.initial()
        return position, states

    # -- comparing -----------------------------------------------------------------------

    def _compare(
        self, expected: StateMap, actual: StateMap, kind: str, what: str, position: int
    ) -> None:
        difference = first_difference(self.projections, expected, actual)
        if difference is not None:
            raise _Mismatch(DeepProblem(kind, f"{what}: {difference}", position))


def _norm(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def first_difference(
    projections: Sequence[Projection], expected: StateMap, actual: StateMap
) -> str | None:
    """Where `actual` first differs from `expected` (`projection row 'key'`), or None."""
    for projection in projections:
        name = projection.name
        want, got = expected[name], actual.get(name)
        if got is None:
            return f"{name} is missing"
        if want.rows != got.rows:
            for key in sorted(set(want.rows) | set(got.rows)):
                if _norm(want.rows.get(key)) != _norm(got.rows.get(key)):
                    return f"{name} row '{escape(key)}' differs"
        if want.aux != got.aux:
            for part in sorted(set(want.aux) | set(got.aux), key=str):
                if _norm(want.aux.get(part)) != _norm(got.aux.get(part)):
                    return f"{name} aux '{escape(str(part))}' differs"
    return None
