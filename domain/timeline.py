"""Time travel: the state of every projection at any position, diffs, lineage, a cursor.

The timeline depends only on ports: an `EventStore` (the events), a `SnapshotStore`
(encoded states at some positions) and the projections, which are pure folds.

Seeking (`state_at(P)`)
    Decode the latest snapshot at or before P, then replay the events after it up to
    P. Measured on the 1M-event demo ledger (`bench/bench_timeline.py`, 2 cores, CPU
    time): a replayed event costs ~12 us, of which ~8 us is the store reading and
    decoding it (`EventStore.iter_all`) and ~4 us folding it into the five ledger
    projections; decoding a late snapshot (~3,300 accounts, ~5,400 audit flags)
    costs ~15-18 ms cold and ~9 ms once its shared chunks are cached (see
    `domain.snapshots`). The worst seek is "decode + replay a whole cadence".

    Cadence 1,024: the tail then costs at most ~13 ms. Measured over 300 random
    positions of the 1M-event demo (with other jobs loading both cores): CPU p50
    ~16 ms, p99 ~28 ms; wall p99 ~43 ms, inside the 50 ms goal. The chunked encoding
    (content-addressed chunks shared between snapshots, `domain.snapshots`) stores
    about half of what whole-state blobs did: 976 snapshots take ~121 MB, 15% of the
    events table and its indexes (goal: <= 25%), where whole-state orjson+zlib blobs
    took 31% at the same cadence. Halving the cadence would cut the tail by ~6 ms
    but double the storage (~30%); delta chains would save storage but add decodes
    to every seek. The 20 ms stretch is out of reach on this hardware: decoding a
    late state alone takes ~10 ms, and the store's per-event read cost bounds the
    tail.

    Snapshots sit on a fixed grid (multiples of `cadence`), so every process agrees
    on where they belong. Any replay that passes a grid point without a snapshot
    writes one (`save_snapshots=True`), and `build_snapshots()` fills the whole grid
    in one pass after a bulk load. A snapshot also records the hash of the event at
    its position and is ignored if the history there differs. Decoding and replaying
    run with the cyclic garbage collector paused (it tripled decode p99 otherwise).

Stepping (`Cursor`)
    A cursor keeps a working state and a journal of the rows each event changed,
    with their values before and after (the "images"), for a window of positions
    around it. +1 past the window's end folds one event; any move inside the window
    just writes the journaled images back, so -1 is as cheap as +1 (microseconds)
    without copying whole states per step, which at thousands of rows would cost
    milliseconds each (the Elm debugger keeps every state; that does not scale to a
    million events). A jump rebuilds the window from the nearest snapshot (one
    `state_at`, plus journaling the last `SEEK_JOURNAL` events so the first steps
    back are free); stepping back past the window's start rebuilds it with
    `BACK_JOURNAL` events, so that cost comes once per 512 steps back. Measured at
    1M events: p50 ~0.05 ms, p99 ~0.2 ms (goal: 10 ms); the rare rebuild costs about
    one `state_at`. Inside the
    window only rows are exact: `aux` bookkeeping stays at the window's furthest
    point, which is all folding forward needs, and `aux` is never displayed.

Refused commands are not events: projections implementing `merge_refusals`
(`domain.refusals`) get them overlaid at read time, by `state_at`, `diff` and the
cursor alike. Events stored at an older `schema_version` are upcast on read.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from domain.clock import format_time, parse_time
from domain.envelope import RecordedEvent
from domain.errors import DomainError, InvalidInput
from domain.fold_failure import fold_failed
from domain.model import DomainModel, EventCatalog
from domain.ports import EventStore, Snapshot, SnapshotStore
from domain.projection import Projection, ProjectionState, Row, StateMap, initial_states
from domain.refusals import MergesRefusals, RefusalIndex
from domain.snapshots import (
    CHUNK_ROWS,
    PLAIN,
    ChunkCache,
    InMemorySnapshots,
    Lock,
    SnapshotCodec,
    compress_chunk,
    decode_states,
    encode_states,
    snapshot_key,
)

DEFAULT_CADENCE = 1024
"""Events between snapshots (see the module docstring for the reasoning)."""

WINDOW = 4096
"""The most events a cursor journals before dropping the oldest half."""

SEEK_JOURNAL = 64
"""How many events before its target a jump journals, so the first steps back are free."""

READ_AHEAD = 32
"""Events a cursor reads beyond the one it needs when it steps forward."""

BACK_JOURNAL = 512
"""How many events a window rebuilt by stepping back past its start journals."""


class _Absent:
    """The value of a field a row does not have (shown as null in JSON)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""`FieldChange.old`/`new` when the row lacked the field."""

_MISSING: Any = object()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Run a decode or replay without the cyclic garbage collector.

    They allocate tens of thousands of dicts, none of them cyclic garbage, and each
    allocation burst triggers collections that traverse every live object: on the
    1M-event demo that tripled the p99 of decoding a snapshot. Collection resumes
    afterwards (never enabled here if the caller had disabled it).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _HistoryChanged(Exception):
    """The event under a snapshot is not the one it was taken after."""


Progress = Callable[[int, int], None]
"""`progress(done, total)`, called now and then during long replays."""


# --- diffs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One field of one row, before and after (`ABSENT` when the row lacked the field)."""

    old: Any
    new: Any


@dataclass(frozen=True)
class ProjectionDiff:
    """How one projection's rows differ between two points."""

    added: dict[str, Row] = field(default_factory=dict)
    removed: dict[str, Row] = field(default_factory=dict)
    changed: dict[str, dict[str, FieldChange]] = field(default_factory=dict)
    """Per row key, the fields whose values differ."""

    @property
    def empty(self) -> bool:
        """True when nothing differs."""
        return not (self.added or self.removed or self.changed)

    def apply_to(self, rows: Mapping[str, Row]) -> dict[str, Row]:
        """`rows` (as at the first point) turned into the rows at the second point."""
        result = {key: dict(row) for key, row in rows.items() if key not in self.removed}
        for key, changes in self.changed.items():
            row = result[key]
            for name, change in changes.items():
                if change.new is ABSENT:
                    row.pop(name, None)
                else:
                    row[name] = change.new
        for key, row in self.added.items():
            result[key] = dict(row)
        return result

    def to_json_dict(self) -> dict[str, Any]:
        """The diff as JSON data (`diff --json`)."""
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {
                key: {
                    name: {"old": _json(change.old), "new": _json(change.new)}
                    for name, change in changes.items()
                }
                for key, changes in self.changed.items()
            },
        }


def _json(value: Any) -> Any:
    return None if value is ABSENT else value


@dataclass(frozen=True)
class Diff:
    """What changed between positions `a` and `b`, per projection (rows only)."""

    a: int
    b: int
    projections: dict[str, ProjectionDiff]

    @property
    def empty(self) -> bool:
        """True when no projection differs."""
        return all(d.empty for d in self.projections.values())

    def apply_to(self, states: Mapping[str, ProjectionState]) -> dict[str, dict[str, Row]]:
        """The rows at `b`, per projection, from `states` at `a`."""
        return {name: diff.apply_to(states[name].rows) for name, diff in self.projections.items()}

    def to_json_dict(self) -> dict[str, Any]:
        """The diff as JSON data (`diff --json`)."""
        return {
            "a": self.a,
            "b": self.b,
            "projections": {n: d.to_json_dict() for n, d in self.projections.items()},
        }


def diff_rows(before: Mapping[str, Row], after: Mapping[str, Row]) -> ProjectionDiff:
    """Rows added, removed and changed (field by field) from `before` to `after`."""
    added = {k: dict(v) for k, v in after.items() if k not in before}
    removed = {k: dict(v) for k, v in before.items() if k not in after}
    changed: dict[str, dict[str, FieldChange]] = {}
    for key, new_row in after.items():
        old_row = before.get(key)
        if old_row is None or old_row == new_row:
            continue
        fields: dict[str, FieldChange] = {}
        for name in {**old_row, **new_row}:
            old, new = old_row.get(name, ABSENT), new_row.get(name, ABSENT)
            if old != new:
                fields[name] = FieldChange(old, new)
        changed[key] = fields
    return ProjectionDiff(added, removed, changed)


def changed_keys(before: Mapping[str, Row], after: Mapping[str, Row]) -> frozenset[str]:
    """The keys of rows added, removed or changed from `before` to `after`."""
    keys = {k for k, row in after.items() if before.get(k) != row}
    keys.update(k for k in before if k not in after)
    return frozenset(keys)


# --- aggregates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregateAt:
    """One aggregate as its stream's events left it at some version."""

    stream_id: str
    version: int
    """The version folded to (0: no event yet)."""
    position: int
    """The global position of the last event folded (0: none)."""
    recorded_at: str
    state: Any


# --- the timeline ------------------------------------------------------------------------------


class Timeline:
    """Every projection's state at any point of one store's history.

    `projections` should be the domain's full set: snapshots are keyed by the set, so
    a timeline over a subset would find none of the shared ones. `catalog` upcasts
    events stored at an older schema version (None: no upcasting). `snapshots`
    defaults to an in-memory store (nothing survives the process). The composition
    root injects what the domain must not do itself: the snapshot `codec`
    (compression), the snapshot `key` (which hashes projection sources), and `lock`
    (a lock factory, when worker threads share the timeline).
    """

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        catalog: EventCatalog | None = None,
        snapshots: SnapshotStore | None = None,
        *,
        cadence: int = DEFAULT_CADENCE,
        save_snapshots: bool = True,
        chunk_rows: int = CHUNK_ROWS,
        codec: SnapshotCodec = PLAIN,
        key: str | None = None,
        lock: Lock = nullcontext,
    ) -> None:
        if cadence < 1:
            raise InvalidInput(f"cadence must be at least 1, got {cadence}")
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise InvalidInput(f"projection names must be unique: {', '.join(names)}")
        self.store = store
        self.projections = tuple(projections)
        self.catalog = catalog
        self.snapshots: SnapshotStore = snapshots if snapshots is not None else InMemorySnapshots()
        self.cadence = cadence
        self.save_snapshots = save_snapshots
        self.chunk_rows = chunk_rows
        """Rows per snapshot chunk (tests make it tiny to exercise the sharing)."""
        self.codec = codec
        self.key = key if key is not None else snapshot_key(self.projections, codec.encoding)
        """The snapshot key of this projection set."""
        self._by_name = {p.name: p for p in self.projections}
        self._current: dict[str, int] = (
            {name: model.schema_version for name, model in catalog.types.items()}
            if catalog is not None
            else {}
        )
        self._refusals = RefusalIndex(lock)
        self._merging = [p for p in self.projections if isinstance(p, MergesRefusals)]
        self._saved: set[int] | None = None
        self._trusted = True
        self._failed_saves = 0
        self._chunk_cache = ChunkCache(lock=lock)
        # Chunk digests known to be stored: most of a new snapshot's chunks are.
        self._stored_chunks: set[str] = set()

    # -- reading events -----------------------------------------------------------------

    def head(self) -> int:
        """The last position of the history."""
        return self.store.head().position

    def events(self, *, after: int = 0, to: int | None = None) -> Iterator[RecordedEvent]:
        """Events with after < position <= to, upcast to their current schema."""
        current = self._current
        for event in self.store.iter_all(after=after, to=to):
            if event.schema_version != current.get(event.type, event.schema_version):
                event = self.upcast(event)
            yield event

    def upcast(self, event: RecordedEvent) -> RecordedEvent:
        """`event` with its data lifted to the current schema version of its type."""
        if self.catalog is None or event.type not in self._current:
            return event
        target = self._current[event.type]
        if event.schema_version == target:
            return event
        data = self.catalog.upcast(event.type, event.schema_version, dict(event.data))
        return replace(event, data=data, schema_version=target)

    def projection(self, name: str) -> Projection:
        """The projection called `name`; InvalidInput naming the known ones otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name)
            raise InvalidInput(f"unknown projection {name!r}; known projections: {known}") from None

    def _clamp(self, position: int, head: int | None = None) -> int:
        if position < 0:
            raise InvalidInput(f"position must be 0 or more, got {position}")
        return min(position, self.head() if head is None else head)

    # -- states -------------------------------------------------------------------------

    def state_at(self, position: int, *, refusals: bool = True) -> StateMap:
        """Every projection's state right after the event at `position` (0: before any).

        Positions past the head give the state at the head. The result is the
        caller's own (independent of any cache). With `refusals`, projections that
        show refused commands count those recorded while the head was <= `position`.
        """
        target = self._clamp(position)
        states = self.fold_to(target)
        return self.present(states, target) if refusals else states

    def fold_to(self, position: int, *, progress: Progress | None = None) -> StateMap:
        """The pure folds (no refusals) at `position`: the nearest snapshot plus the tail.

        `position` must be within 0..head. The states are the caller's own.
        """
        with _gc_paused():
            start, states, expected = self._restore(position)
            try:
                self.advance(states, start, position, expected_hash=expected, progress=progress)
            except _HistoryChanged:
                # The history under the snapshots changed (a replaced database file):
                # stop trusting them in this timeline rather than show a wrong state.
                self._trusted = False
                states = initial_states(self.projections)
                self.advance(states, 0, position, progress=progress)
        return states

    def present(self, states: StateMap, position: int, *, refresh: bool = True) -> StateMap:
        """`states` (a pure fold to `position`) with refused commands overlaid.

        Only the projections implementing `merge_refusals` get new state objects;
        the others are `states`' own.
        """
        if not self._merging:
            return states
        if refresh:
            self._refusals.refresh(self.store)
        if not self._refusals.count:
            return states
        tallies = self._refusals.tallies(position)
        shown = dict(states)
        for projection in self._merging:
            shown[projection.name] = projection.merge_refusals(states[projection.name], tallies)
        return shown

    def _restore(self, position: int) -> tuple[int, StateMap, str | None]:
        """The latest snapshot at or before `position`, decoded (or the start), and the
        hash its event must have (checked by `advance` as it reads on from there)."""
        if self._trusted:
            snapshot = self.snapshots.latest(self.key, position)
            if snapshot is not None and snapshot.position > 0:
                try:
                    states = decode_states(
                        snapshot.encoding,
                        snapshot.blob,
                        self._fetch_chunks,
                        self._chunk_cache,
                        self.codec,
                    )
                except InvalidInput:
                    # A chunk went missing (snapshots discarded meanwhile): replay instead.
                    self.drop_caches()
                else:
                    return snapshot.position, states, snapshot.event_hash
        return 0, initial_states(self.projections), None

    def advance(
        self,
        states: StateMap,
        start: int,
        to: int,
        *,
        expected_hash: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Fold the events after `start` up to `to` into `states` (pure folds, in place).

        With `expected_hash`, the event at `start` must have that hash (the states came
        from a snapshot of it). Saves a snapshot at every grid point passed that has
        none yet, when enabled.
        """
        if expected_hash is not None:
            events = iter(self.store.iter_all(after=start - 1, to=max(start, to)))
            first = next(events, None)
            if first is None or first.hash != expected_hash:
                raise _HistoryChanged()
        else:
            events = iter(self.store.iter_all(after=start, to=to))
        if to <= start:
            return
        pairs = [(p.apply, states[p.name]) for p in self.projections]
        cadence = self.cadence
        saving = self.save_snapshots and self._trusted
        grid = (start // cadence + 1) * cadence
        tick = max(1, (to - start) // 100)
        next_tick = start + tick
        current = self._current
        for event in events:
            apply: Any = None
            try:
                if event.schema_version != current.get(event.type, event.schema_version):
                    event = self.upcast(event)
                for apply, state in pairs:
                    apply(state, event)
            except Exception as exc:  # bad stored data or a projection bug: one line, no trace
                raise fold_failed(event, self.projections, pairs, apply, exc) from exc
            position = event.position
            if position == grid:
                if saving and not self._has_snapshot(position):
                    self._save(states, event)
                grid += cadence
            if progress is not None and position >= next_tick:
                progress(position - start, to - start)
                next_tick += tick

    def _has_snapshot(self, position: int) -> bool:
        if self._saved is None:
            self._saved = set(self.snapshots.positions(self.key))
        return position in self._saved

    def _fetch_chunks(self, digests: Sequence[str]) -> Mapping[str, bytes]:
        return self.snapshots.chunks(self.key, digests)

    def _save(self, states: StateMap, event: RecordedEvent) -> None:
        manifest, chunks = encode_states(states, self.chunk_rows, self.codec)
        fresh = [d for d in chunks if d not in self._stored_chunks]
        if fresh:
            self._stored_chunks.update(self.snapshots.known_chunks(self.key, fresh))
        new = {
            d: compress_chunk(chunks[d], self.codec) for d in fresh if d not in self._stored_chunks
        }
        snapshot = Snapshot(self.key, event.position, event.hash, self.codec.encoding, manifest)
        try:
            self.snapshots.save(snapshot, new)
        except DomainError:
            # Snapshots are a cache: a read-only or busy database must not fail the
            # read that would have written one. Give up after a few refusals in a row.
            self._failed_saves += 1
            if self._failed_saves >= 3:
                self.save_snapshots = False
            return
        self._failed_saves = 0
        self._stored_chunks.update(new)
        if len(self._stored_chunks) > 1_000_000:
            self._stored_chunks.clear()  # only an optimisation; keep memory bounded
        if self._saved is not None:
            self._saved.add(event.position)

    def build_snapshots(self, *, to: int | None = None, progress: Progress | None = None) -> int:
        """Write every missing snapshot of the grid up to `to` (the head) in one replay.

        Returns how many were written. Used after a bulk load (demo, import) and by
        a rebuild; safe to run again (it only fills gaps).
        """
        head = self.head() if to is None else self._clamp(to)
        grid = list(range(self.cadence, head + 1, self.cadence))
        self._saved = set(self.snapshots.positions(self.key))
        missing = [p for p in grid if p not in self._saved]
        if not missing:
            return 0
        before = len(self._saved)
        saving, self.save_snapshots = self.save_snapshots, True
        try:
            with _gc_paused():
                start, states, expected = self._restore(missing[0] - 1)
                self.advance(states, start, missing[-1], expected_hash=expected, progress=progress)
        except _HistoryChanged:
            self._trusted = False
            return 0
        finally:
            self.save_snapshots = saving
        return len(self._saved) - before

    def snapshot_size(self) -> int:
        """Bytes of snapshots kept for this projection set."""
        return self.snapshots.size(self.key)

    def discard_stale_snapshots(self) -> int:
        """Delete snapshots of other projection definitions; returns how many."""
        return self.snapshots.discard(keep=self.key)

    def drop_caches(self) -> None:
        """Forget decoded chunks and what is known to be stored (after an outside change
        to the snapshot store, or to free memory)."""
        self._chunk_cache.clear()
        self._stored_chunks.clear()
        self._saved = None

    def refresh(self) -> None:
        """Pick up refusals recorded since the last read (events are always read fresh)."""
        self._refusals.refresh(self.store)

    # -- points in time -------------------------------------------------------------------

    def position_at(self, timestamp: str | datetime) -> int:
        """The last position recorded at or before `timestamp` and not flagged as clock
        skew (0 if none; `domain.clock_skew`): the books as they stood then.
        Accepts any ISO 8601 time (a date means its midnight; no zone means UTC).
        """
        moment = timestamp if isinstance(timestamp, datetime) else parse_time(timestamp)
        return self.store.position_at(format_time(moment))

    def aggregate_at(
        self,
        model: DomainModel,
        stream_id: str,
        version: int | None = None,
        *,
        position: int | None = None,
    ) -> AggregateAt:
        """Fold one stream with its aggregate type up to `version` (the latest: None)
        and not past global `position`, with events decoded and upcast by `model`."""
        if version is not None and version < 0:
            raise InvalidInput(f"version must be 0 or more, got {version}")
        events = self.store.read_stream(stream_id, to_version=version)
        if position is not None:
            events = [e for e in events if e.position <= position]
        aggregate = (
            model.aggregate_for(events[0].stream_type)
            if events
            else self._aggregate_by_prefix(model, stream_id)
        )
        state = aggregate.initial()
        for recorded in events:
            event = model.catalog.decode(recorded.type, recorded.schema_version, recorded.data)
            state = aggregate.evolve(state, event)
        last = events[-1] if events else None
        return AggregateAt(
            stream_id=stream_id,
            version=last.version if last else 0,
            position=last.position if last else 0,
            recorded_at=last.recorded_at if last else "",
            state=state,
        )

    @staticmethod
    def _aggregate_by_prefix(model: DomainModel, stream_id: str) -> Any:
        for aggregate in model.aggregates:
            if stream_id.startswith(f"{aggregate.stream_type}-"):
                return aggregate
        raise InvalidInput(f"no aggregate of {model.name} has streams named like {stream_id!r}")

    # -- comparing ----------------------------------------------------------------------

    def diff(self, a: int, b: int, *, names: Sequence[str] | None = None) -> Diff:
        """Rows added, removed and changed (field by field) from position `a` to `b`."""
        chosen = [self.projection(n).name for n in names] if names is not None else None
        head = self.head()
        a, b = self._clamp(a, head), self._clamp(b, head)
        before, after = self.state_at(a), self.state_at(b)
        return Diff(
            a,
            b,
            {
                name: diff_rows(before[name].rows, after[name].rows)
                for name in (chosen or [p.name for p in self.projections])
            },
        )

    def lineage(
        self,
        projection_name: str,
        row_key: str,
        *,
        to: int | None = None,
        progress: Progress | None = None,
    ) -> list[int]:
        """The positions whose events changed row `row_key` of a projection, newest first.

        Reads only the streams `lineage_streams` names when the projection knows
        them, only the time span `lineage_span` names when it offers one, and
        otherwise replays the projection alone over the whole history. Refused
        commands are not events, so they are never part of a lineage.
        """
        projection = self.projection(projection_name)
        head = self.head() if to is None else self._clamp(to)
        streams = projection.lineage_streams(row_key)
        if streams is not None:
            return self._lineage_of_streams(projection, row_key, streams, head)
        span = getattr(projection, "lineage_span", None)
        window = span(row_key) if callable(span) else None
        if window is not None:
            # The row changes only at window[0] <= recorded_at < window[1].
            start = self._last_before(window[0]) if window[0] else 0
            end = min(head, self._last_before(window[1])) if window[1] else head
            if end <= start:
                return []
            state = self.state_at(start, refusals=False)[projection.name]
            return self._lineage_scan(projection, state, row_key, start, end, progress)
        return self._lineage_scan(projection, projection.initial(), row_key, 0, head, progress)

    def _last_before(self, timestamp: str) -> int:
        """The last position recorded strictly before `timestamp`."""
        moment = parse_time(timestamp)
        # position_at is "at or before"; stored times have microseconds, so one
        # microsecond earlier makes it "before".
        return self.store.position_at(format_time(moment - timedelta(microseconds=1)))

    def _lineage_of_streams(
        self, projection: Projection, row_key: str, streams: Sequence[str], head: int
    ) -> list[int]:
        events = [e for s in streams for e in self.store.read_stream(s) if e.position <= head]
        events.sort(key=lambda e: e.position)
        state = projection.initial()
        found = []
        current = self._current
        for event in events:
            if event.schema_version != current.get(event.type, event.schema_version):
                event = self.upcast(event)
            if row_key in projection.apply(state, event):
                found.append(event.position)
        found.reverse()
        return found

    def _lineage_scan(
        self,
        projection: Projection,
        state: ProjectionState,
        row_key: str,
        start: int,
        end: int,
        progress: Progress | None,
    ) -> list[int]:
        found = []
        apply = projection.apply
        tick = max(1, (end - start) // 100)
        next_tick = start + tick
        with _gc_paused():
            for event in self.events(after=start, to=end):
                if row_key in apply(state, event):
                    found.append(event.position)
                if progress is not None and event.position >= next_tick:
                    progress(event.position - start, end - start)
                    next_tick += tick
        found.reverse()
        return found

    # -- stepping -------------------------------------------------------------------------

    def cursor(
        self,
        position: int | None = None,
        *,
        window: int = WINDOW,
        seek_journal: int = SEEK_JOURNAL,
    ) -> Cursor:
        """A cursor at `position` (the head by default); see `Cursor` for the sizes."""
        start = self.head() if position is None else position
        return Cursor(self, start, window=window, seek_journal=seek_journal)


def build_snapshots(
    store: EventStore,
    projections: Sequence[Projection],
    snapshots: SnapshotStore,
    catalog: EventCatalog | None = None,
    *,
    cadence: int = DEFAULT_CADENCE,
    to: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the missing snapshots of `projections` up to `to` (the head) in one replay.

    Returns how many were written. See `Timeline.build_snapshots`.
    """
    timeline = Timeline(store, projections, catalog, snapshots, cadence=cadence)
    return timeline.build_snapshots(to=to, progress=progress)


# --- the cursor ------------------------------------------------------------------------------

Entry = tuple[str, str, Row | None, Row | None]
"""A journaled row change: (projection name, row key, row before, row after)."""


@dataclass(frozen=True)
class Move:
    """Where a cursor moved, and which rows differ from where it was."""

    position: int
    previous: int
    event: RecordedEvent | None
    """The event at `position` (None at 0)."""
    changed: dict[str, frozenset[str]]
    """Per projection with any, the keys of rows that differ from `previous`."""


class Cursor:
    """A position on the timeline that moves cheaply, keeping its state as it goes.

    `states` are every projection's rows at `position`, refusals overlaid. Moves
    return which rows changed, for highlighting. Not thread-safe: one cursor per
    worker.
    """

    def __init__(
        self,
        timeline: Timeline,
        position: int,
        *,
        window: int = WINDOW,
        seek_journal: int = SEEK_JOURNAL,
    ) -> None:
        if window < 2 or seek_journal < 1:
            raise InvalidInput("a cursor needs window >= 2 and seek_journal >= 1")
        self.timeline = timeline
        self.window = window
        """The most events journaled before the oldest half is dropped."""
        self.seek_journal = seek_journal
        """How many events before its target a jump journals."""
        self._back_journal = max(seek_journal, min(BACK_JOURNAL, window // 2))
        self._names = [p.name for p in timeline.projections]
        self._merging = {p.name for p in timeline._merging}
        self._head = timeline.head()
        self._work: StateMap = {}
        self._view: StateMap = {}
        self._base: dict[str, dict[str, Row]] = {}
        self._latest: dict[str, dict[str, Row | None]] = {}
        self._journal: list[list[Entry]] = []
        self._events: list[RecordedEvent] = []
        self._ahead: list[RecordedEvent] = []
        self._lo = self._front = self._q = 0
        self._edge_event: RecordedEvent | None = None
        with _gc_paused():
            self._build(timeline._clamp(position, self._head), self.seek_journal)
        self._view = timeline.present(self._work, self._q)

    # -- what it shows --------------------------------------------------------------------

    @property
    def position(self) -> int:
        """Where the cursor is."""
        return self._q

    @property
    def head(self) -> int:
        """The head as last seen by the cursor (`refresh()` looks again)."""
        return self._head

    @property
    def states(self) -> StateMap:
        """Every projection's state at `position` (rows exact; treat as read-only)."""
        return self._view

    @property
    def event(self) -> RecordedEvent | None:
        """The event at `position` (None at 0)."""
        return self._event_at(self._q)

    def refresh(self) -> int:
        """Look for new events and refusals; returns the head."""
        self._head = self.timeline.head()
        self.timeline.refresh()
        self._view = self.timeline.present(self._work, self._q, refresh=False)
        return self._head

    # -- moving ---------------------------------------------------------------------------

    def step(self, delta: int = 1) -> Move:
        """Move `delta` events (negative: back), stopping at 0 and at the head."""
        return self.seek(self._q + delta)

    def seek(self, position: int) -> Move:
        """Move to `position` (clamped to 0..head), by the cheapest route."""
        with _gc_paused():
            return self._seek(position)

    def _seek(self, position: int) -> Move:
        if position < 0:
            position = 0
        if position > self._head:
            self._head = self.timeline.head()
        target = min(position, self._head)
        previous = self._q
        if target == previous:
            return Move(target, previous, self._event_at(target), {})
        # Merged rows are rebuilt on every move, so compare those in full, from copies.
        merged_before = {
            n: {k: dict(r) for k, r in self._view[n].rows.items()} for n in self._merging
        }
        if self._lo <= target <= self._front:
            touched = self._walk(target)
        elif target > self._front and target - self._front <= self.timeline.cadence:
            touched = self._walk(self._front)
            touched = self._extend(target, touched)
        else:
            old_rows = {n: self._work[n].rows for n in self._names}
            backwards = target < self._lo
            self._build(target, self._back_journal if backwards else self.seek_journal)
            self._view = self.timeline.present(self._work, target, refresh=False)
            jumped = {
                n: changed_keys(merged_before.get(n, old_rows[n]), self._view[n].rows)
                for n in self._names
            }
            return Move(
                target, previous, self._event_at(target), {n: k for n, k in jumped.items() if k}
            )
        self._view = self.timeline.present(self._work, target, refresh=False)
        changed: dict[str, set[str]] = {}
        for (name, key), before in touched.items():
            if name in self._merging:
                continue
            if before != self._work[name].rows.get(key):
                changed.setdefault(name, set()).add(key)
        for name in self._merging:
            keys = changed_keys(merged_before[name], self._view[name].rows)
            if keys:
                changed[name] = set(keys)
        return Move(
            target,
            previous,
            self._event_at(target),
            {n: frozenset(k) for n, k in changed.items()},
        )

    # -- the window -----------------------------------------------------------------------

    def _build(self, target: int, journal: int) -> None:
        """A fresh window of `journal` events ending at `target`, from the nearest snapshot.

        A jump journals `seek_journal` events (cheap; enough for the first steps
        back); stepping back out of a window journals more, as more steps back are
        likely, so such rebuilds stay rare.
        """
        timeline = self.timeline
        lo = max(0, target - journal)
        states = timeline.fold_to(lo)
        self._work = states
        # The rows at `lo`, as the "before" of each row's first change in the window.
        self._base = {n: {k: dict(r) for k, r in states[n].rows.items()} for n in self._names}
        self._latest = {n: {} for n in self._names}
        self._journal = []
        self._events = []
        self._ahead = []
        self._edge_event = None
        self._lo = self._front = self._q = lo
        self._extend(target, None)

    def _extend(
        self, target: int, touched: dict[tuple[str, str], Row | None] | None
    ) -> dict[tuple[str, str], Row | None]:
        """Fold events past the window's end up to `target`, journaling what changed.

        `touched` (unless None) collects each changed row's value before this move.
        """
        timeline = self.timeline
        work = self._work
        pairs = [(p.name, p.apply, work[p.name]) for p in timeline.projections]
        base, latest = self._base, self._latest
        current = timeline._current
        cadence = timeline.cadence
        saving = timeline.save_snapshots and timeline._trusted
        for event in self._fetch(target):
            if event.schema_version != current.get(event.type, event.schema_version):
                event = timeline.upcast(event)
            entries: list[Entry] = []
            for name, apply, state in pairs:
                keys = apply(state, event)
                if not keys:
                    continue
                rows = state.rows
                seen = latest[name]
                for key in keys:
                    pre = seen.get(key, _MISSING)
                    if pre is _MISSING:
                        pre = base[name].get(key)
                    row = rows.get(key)
                    post = None if row is None else dict(row)
                    seen[key] = post
                    entries.append((name, key, pre, post))
                    if touched is not None and (name, key) not in touched:
                        touched[(name, key)] = pre
            self._journal.append(entries)
            self._events.append(event)
            self._front = self._q = event.position
            if (
                saving
                and event.position % cadence == 0
                and not timeline._has_snapshot(event.position)
            ):
                timeline._save(work, event)
        if len(self._journal) > self.window:
            self._slide(len(self._journal) - self.window // 2)
        return touched if touched is not None else {}

    def _fetch(self, target: int) -> Iterator[RecordedEvent]:
        """The events after the window's end up to `target`, read ahead in chunks."""
        position = self._front
        while position < target:
            if not self._ahead:
                # Read a little ahead (up to the head known), so holding -> costs one
                # query per READ_AHEAD steps.
                stop = max(target, min(self._head, position + READ_AHEAD))
                self._ahead = self.timeline.store.read_all(after=position, to=stop)
                self._ahead.reverse()
                if not self._ahead:
                    return
            event = self._ahead.pop()
            position = event.position
            yield event

    def _walk(self, target: int) -> dict[tuple[str, str], Row | None]:
        """Move inside the window by writing journaled rows back; returns rows touched
        with their values before the move."""
        work, journal, lo = self._work, self._journal, self._lo
        touched: dict[tuple[str, str], Row | None] = {}
        q = self._q
        if target > q:
            for index in range(q - lo, target - lo):
                for name, key, pre, post in journal[index]:
                    rows = work[name].rows
                    if post is None:
                        rows.pop(key, None)
                    else:
                        rows[key] = dict(post)
                    if (name, key) not in touched:
                        touched[(name, key)] = pre
        else:
            for index in range(q - lo - 1, target - lo - 1, -1):
                for name, key, pre, post in reversed(journal[index]):
                    rows = work[name].rows
                    if pre is None:
                        rows.pop(key, None)
                    else:
                        rows[key] = dict(pre)
                    if (name, key) not in touched:
                        touched[(name, key)] = post
        self._q = target
        return touched

    def _slide(self, drop: int) -> None:
        """Forget the oldest `drop` journaled events.

        The base needs no update: a row changed in the window has its latest image
        in `_latest`, which is where the next change's "before" is looked up first.
        """
        drop = min(drop, self._q - self._lo)
        if drop <= 0:
            return
        self._edge_event = self._events[drop - 1]
        del self._journal[:drop]
        del self._events[:drop]
        self._lo += drop

    def _event_at(self, position: int) -> RecordedEvent | None:
        if position <= 0:
            return None
        lo = self._lo
        if lo < position <= self._front:
            return self._events[position - lo - 1]
        if position == lo and self._edge_event is not None and self._edge_event.position == lo:
            return self._edge_event
        found = self.timeline.store.read_all(after=position - 1, to=position)
        event = self.timeline.upcast(found[0]) if found else None
        if position == lo:
            self._edge_event = event
        return event


__all__ = [
    "ABSENT",
    "DEFAULT_CADENCE",
    "AggregateAt",
    "Cursor",
    "Diff",
    "FieldChange",
    "Move",
    "ProjectionDiff",
    "Timeline",
    "build_snapshots",
    "changed_keys",
    "diff_rows",
]
