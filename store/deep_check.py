"""`verify --deep`: recompute every derived record from the events and compare.

Snapshots, read models, projector checkpoints and commands rows are derived from the
events, and shown as truth. Without a key nothing stops someone with the database
from editing them, so this check replays the history once, from the first event, and
compares on the way:

- every snapshot of the current projection definitions, decoded, with the replay at its
  position (and its event hash with the event there);
- the read models with the replay at their checkpoint (a checkpoint moved, or a row
  edited, shows as a difference);
- every commands row with the events that carry its command id: they must be exactly
  the positions it claims, and every command id in the events needs its row.

With a key it also checks every HMAC (`store.derived_macs`; snapshots and checkpoints
through their role's own check at use). It is written against the store roles only:
the events through the ProjectionStore's `fold_rows`, the read models in one
ProjectionStore read transaction, the SnapshotStore, AuditRecords' `command_rows`; so
SQLite, PostgreSQL and memory are checked by this one implementation. The head is
fixed when it starts: a writer going on meanwhile appends past it, and the read models
are read with their checkpoint in one transaction, so neither shows as a difference.
It stops at the first mismatch (`DeepReport.problem`). Cost: one replay of every event
plus one decode per snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.envelope import GENESIS_HASH
from domain.model import EventCatalog
from domain.ports import EventStore, Snapshot, SnapshotStore
from domain.ports.projections import ReadModelStore
from domain.projection import Projection, StateMap, initial_states
from domain.snapshots import decode_states
from domain.text import escape
from store import read_models as rm
from store.deep_commands import CommandRowMismatch, CommandRows
from store.derived_macs import DerivedDataForged, DerivedMacs, check_chunks
from store.replay import FoldFailure, fold_rows
from store.snapshot_format import codec_for, stored_snapshot_key

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
    store: EventStore,
    snapshots: SnapshotStore,
    projections: Sequence[Projection],
    catalog: EventCatalog,
    *,
    macs: DerivedMacs | None = None,
    schema_problem: str | None = None,
    projector: str = "main",
) -> DeepReport:
    """Replay the events of `store` and compare every derived record: the snapshots in
    `snapshots` (opened with the chain's key, if any), the read models and checkpoint of
    the store's ProjectionStore, the commands rows (with `macs`, the chain's key: their
    HMACs). `schema_problem` (the store's own schema check) is reported first."""
    models = store.read_models()
    try:
        check = _DeepCheck(store, models, snapshots, tuple(projections), catalog, projector, macs)
        return check.run(schema_problem)
    finally:
        models.close()


class _DeepCheck:
    def __init__(
        self,
        store: EventStore,
        models: ReadModelStore,
        snapshots: SnapshotStore,
        projections: tuple[Projection, ...],
        catalog: EventCatalog,
        projector: str,
        macs: DerivedMacs | None,
    ) -> None:
        self.store = store
        self.models = models
        self.kept = snapshots
        self.projections = projections
        self.catalog = catalog
        self.projector = projector
        self.key = stored_snapshot_key(projections)
        self.notes: list[str] = []
        self.events = self.snapshots = 0
        self.read_models_at: int | None = None
        self.head = store.head().position
        self.commands = CommandRows(store, self.head, macs)

    def run(self, schema_problem: str | None) -> DeepReport:
        try:
            if schema_problem is not None:
                raise _Mismatch(DeepProblem("schema", schema_problem))
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
        head = self.head
        snapshots = self.kept.positions(self.key)
        read_models = self._read_models(head)
        beyond = [p for p in snapshots if p > head]
        if beyond:
            raise _Mismatch(
                DeepProblem("snapshot", f"snapshot at #{beyond[0]} is beyond the head #{head}")
            )
        targets = sorted({*snapshots, *([read_models[0]] if read_models else []), head})
        states = initial_states(self.projections)
        position, event_hash = 0, GENESIS_HASH
        for target in targets:
            while position < target:
                limit = min(_BATCH, target - position)  # positions run 1..head, no gap
                rows = [r for r in self.models.fold_rows(position, limit) if r[0] <= target]
                if not rows:
                    break
                try:
                    fold_rows(rows, self.projections, states, self.catalog)
                except FoldFailure as failure:
                    error = failure.error
                    raise _Mismatch(DeepProblem("replay", str(error), error.position)) from None
                self.commands.feed(rows, [_command_id(row[8]) for row in rows])
                self.events += len(rows)
                position, event_hash = rows[-1][0], rows[-1][11]
            if position != target:
                break  # a gap in the events: `verify` names it
            if target in snapshots:
                self._check_snapshot(target, event_hash, states)
            if read_models is not None and read_models[0] == target:
                self._compare(
                    states,
                    read_models[1],
                    "read_models",
                    f"the read models do not match a replay to their checkpoint #{target}",
                    target,
                )
                self.read_models_at = target

    # -- snapshots -----------------------------------------------------------------------

    def _check_snapshot(self, position: int, event_hash: str, states: StateMap) -> None:
        try:
            snapshot = self.kept.latest(self.key, position)
        except DerivedDataForged:  # the store's check at use, with a key
            raise _Mismatch(
                DeepProblem(
                    "snapshot", f"snapshot at #{position} does not match its HMAC", position
                )
            ) from None
        if snapshot is None or snapshot.position != position:
            return  # deleted meanwhile (snapshots are a cache)
        if snapshot.event_hash != event_hash:
            raise _Mismatch(
                DeepProblem(
                    "snapshot",
                    f"snapshot at #{position} was taken after another event than the one there",
                    position,
                )
            )
        try:
            decoded = self._decode(snapshot)
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

    def _decode(self, snapshot: Snapshot) -> StateMap:
        codec = codec_for(snapshot.encoding)
        return decode_states(snapshot.encoding, snapshot.blob, self._chunks, None, codec)

    def _chunks(self, digests: Sequence[str]) -> dict[str, bytes]:
        found = self.kept.chunks(self.key, digests)
        check_chunks(found)  # content-addressed: a chunk must match its name, key or not
        return found

    # -- read models ---------------------------------------------------------------------

    def _read_models(self, head: int) -> tuple[int, StateMap] | None:
        """(checkpoint position, the persisted states) when they can be compared: read
        with their checkpoint in one transaction of the ProjectionStore role."""
        fingerprint, _ = rm.fingerprint(self.projections)
        with self.models.transaction("check the read models", write=False) as tables:
            checkpoint = tables.checkpoint(self.projector)
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
                tables.check_checkpoint(self.projector, position, fingerprint)
            except DerivedDataForged as forged:
                raise _Mismatch(DeepProblem("checkpoint", forged.message, position)) from None
            present = tables.tables()
            states: StateMap = {}
            for projection in self.projections:
                if projection.name in present:
                    states[projection.name] = rm.read_state(tables, projection)[0]
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


def _command_id(metadata: object) -> object:
    """The command id in an event's stored metadata (JSON text), if any."""
    try:
        return orjson.loads(metadata).get("command_id")  # type: ignore[arg-type]
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return None


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
