"""Seeking: every projection's state at any position, from a snapshot plus the tail.

`Timeline` is the engine's entry point; stepping (`domain.timeline.cursor`), diffs,
lineage and aggregate history are computed by the modules named in its methods.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

from domain.clock import format_time, parse_time
from domain.envelope import RecordedEvent, Refusal
from domain.errors import DomainError, InvalidInput
from domain.model import DomainModel, EventCatalog
from domain.ports import EventStore, Snapshot, SnapshotStore
from domain.projection import Projection, StateMap, initial_states, projection_named
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
from domain.timeline.aggregate import AggregateAt, aggregate_history
from domain.timeline.cursor import SEEK_JOURNAL, WINDOW, Cursor
from domain.timeline.diff import Diff, diff_rows
from domain.timeline.lineage import LineageStep, lineage_steps
from domain.timeline.refusals import RefusalLog, overlay
from domain.timeline.replay import HistoryChanged, Progress, Upcaster, fold, gc_paused
from domain.timeline.tail import TailFold

DEFAULT_CADENCE = 1024
"""Events between snapshots (see `domain.timeline` for the reasoning)."""


class Timeline:
    """Every projection's state at any point of one store's history.

    `projections` should be the domain's full set: snapshots are keyed by the set, so
    a timeline over a subset would find none of the shared ones. `catalog` upcasts
    events stored at an older schema version (None: no upcasting). `snapshots`
    defaults to an in-memory store (nothing survives the process). The composition
    root injects what the domain must not do itself: the snapshot `codec`
    (compression), the snapshot `key` (which hashes projection sources), `lock`
    (a lock factory, when worker threads share the timeline) and `chunk_cache` (which
    decoded chunks to keep; by default shared ones, `ChunkCache`, grown to fit the
    states restored; the app keeps those of the snapshots restored last,
    `store.chunk_cache.NearCursorChunks`) and `tail` (how a seek folds the events
    after its snapshot, from narrow rows: `domain.timeline.tail`; None: full events).
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
        chunk_cache: ChunkCache | None = None,
        tail: TailFold | None = None,
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
        self._upcast = Upcaster(catalog)
        self._refusals = RefusalIndex(lock)
        self.refusal_log = RefusalLog(store)
        """Every refusal by position, read once and topped up (`refusals_at`)."""
        self._merging = [p for p in self.projections if isinstance(p, MergesRefusals)]
        self._saved: set[int] | None = None
        self._trusted = True
        self._failed_saves = 0
        self._chunk_cache = (
            chunk_cache if chunk_cache is not None else ChunkCache(lock=lock, grow=True)
        )
        # Chunk digests known to be stored: most of a new snapshot's chunks are.
        self._stored_chunks: set[str] = set()
        self.tail = tail
        """The store's fold of a seek's tail (None: `advance` folds full events)."""

    # -- reading events -----------------------------------------------------------------

    def head(self) -> int:
        """The last position of the history."""
        return self.store.head().position

    def events(self, *, after: int = 0, to: int | None = None) -> Iterator[RecordedEvent]:
        """Events with after < position <= to, upcast to their current schema."""
        return self._upcast.each(self.store.iter_all(after=after, to=to))

    def upcast(self, event: RecordedEvent) -> RecordedEvent:
        """`event` with its data lifted to the current schema version of its type."""
        return self._upcast(event)

    def projection(self, name: str) -> Projection:
        """The projection called `name`; InvalidInput naming the known ones otherwise."""
        return projection_named(self._by_name, name)

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
        with gc_paused():
            start, states, expected = self._restore(position)
            try:
                tail = self._tail_for(start, position)
                if tail is not None:
                    self._check_start(start, expected)
                    tail(states, start, position)
                else:
                    self.advance(states, start, position, expected_hash=expected, progress=progress)
            except HistoryChanged:
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
        return overlay(self._merging, states, self._refusals.tallies(position))

    def refusals_at(self, position: int, limit: int) -> tuple[Refusal, ...]:
        """The latest `limit` refusals recorded while the head was <= `position`, newest
        first (see `domain.timeline.refusals.RefusalLog`; callers lock)."""
        return self.refusal_log.latest(position, limit)

    def _tail_for(self, start: int, to: int) -> TailFold | None:
        """`self.tail` if it is to fold the events after `start` up to `to`: only a
        tail that passes no grid point (where `advance` may have a snapshot to save)."""
        return self.tail if to < (start // self.cadence + 1) * self.cadence else None

    def _check_start(self, start: int, expected_hash: str | None) -> None:
        """HistoryChanged unless the event at `start` has `expected_hash` (None: no
        snapshot under the states, nothing to check)."""
        if expected_hash is None:
            return
        first = next(iter(self.store.iter_all(after=start - 1, to=start)), None)
        if first is None or first.hash != expected_hash:
            raise HistoryChanged()

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
        self._check_start(start, expected_hash)
        if to <= start:
            return
        events = iter(self.store.iter_all(after=start, to=to))
        cadence = self.cadence
        saving = self.save_snapshots and self._trusted
        grid = (start // cadence + 1) * cadence
        tick = max(1, (to - start) // 100)
        next_tick = start + tick
        chosen = [states[p.name] for p in self.projections]
        for event, _ in fold(events, self._upcast, self.projections, chosen):
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
            with gc_paused():
                start, states, expected = self._restore(missing[0] - 1)
                self.advance(states, start, missing[-1], expected_hash=expected, progress=progress)
        except HistoryChanged:
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
        return aggregate_history(self.store, model, stream_id, version, position=position)[-1]

    def aggregate_history(self, model: DomainModel, stream_id: str) -> list[AggregateAt]:
        """Every event of `stream_id`, oldest first, with its aggregate's state after it."""
        try:
            history = aggregate_history(self.store, model, stream_id)
        except InvalidInput:
            history = []
        if len(history) <= 1:
            raise InvalidInput(f"no stream {stream_id!r}")
        return history[1:]

    # -- comparing ----------------------------------------------------------------------

    def diff(self, a: int, b: int, *, names: Sequence[str] | None = None) -> Diff:
        """Rows added, removed and changed (field by field) from position `a` to `b`.

        Both sides are as `state_at` shows them (refused commands overlaid).
        """
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
        """The positions whose events changed row `row_key` of a projection, newest first."""
        steps = self.lineage_steps(projection_name, row_key, to=to, progress=progress)
        return [step.event.position for step in reversed(steps)]

    def lineage_steps(
        self,
        projection_name: str,
        row_key: str,
        *,
        to: int | None = None,
        progress: Progress | None = None,
        guard: AbstractContextManager[object] | None = None,
    ) -> list[LineageStep]:
        """The events that changed row `row_key` of a projection, oldest first, each with
        the row before and after it (see `domain.timeline.lineage`).

        `guard` (a lock, say) is held while the timeline's own state is read, which only
        a lineage over a time span does; reading events needs none.
        """
        projection = self.projection(projection_name)
        head = self.head() if to is None else self._clamp(to)
        return lineage_steps(self, projection, row_key, head, progress, guard)

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
