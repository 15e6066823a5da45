"""Snapshots of projection states: encoding, keys, and an in-memory store.

Encoding (`chunks/1`): content-addressed chunks plus a small manifest.

    Each projection's rows, in their own (insertion) order, are cut into chunks of
    `CHUNK_ROWS`; so is every large dict in its `aux`. A chunk is an orjson object
    named by the BLAKE2b digest of its bytes and stored compressed by the codec the
    caller injects (`SnapshotCodec`; the SQLite store's is zlib), once per snapshot
    key; the snapshot itself is a manifest listing its chunks' digests (plus small
    aux values inline).

Why: in an append-mostly history most of a state does not change between two
snapshots. Audit flags and past days only ever get new rows, and account-to-currency
maps rarely change, so their chunks are shared by every later snapshot: each new
snapshot stores only the chunks that changed (on the 1M-event demo ledger, chiefly
the account rows), which keeps snapshots well under a quarter of the event storage
at a denser cadence than whole-state blobs could afford. Unlike delta chains, any
snapshot still decodes in one step, and a shared chunk, once decoded, is kept in a
small cache (`ChunkCache`) and copied instead of parsed again, which is what makes
repeated seeks cheap. JSON because states are JSON by contract and must stay
readable across Python versions; orjson because it is the fastest parser at hand.
Compression is the codec's: this module computes and never compresses itself
(`PLAIN`, the default, stores chunks as they are; `store.snapshot_format.ZLIB` is
what databases hold).

Keys: a snapshot key names the codec's encoding and the projection definitions it
was built with: each projection's name, class, `version` attribute (if any) and a
digest of its code, given by the caller (`definition(projection, digest)`; the store
hashes module sources, see `store.snapshot_format`). Changing a projection's code or
settings changes the key, and snapshots of the old definitions are never read again
(`discard` drops them). A projection whose output depends on code outside its module
must bump its `version` when that changes.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

import orjson

from domain.errors import InvalidInput
from domain.ports import Snapshot
from domain.projection import Projection, ProjectionState, StateMap
from domain.snapshot_chunks import private_copy, shared_form

CHUNK_ROWS = 256
"""Rows (or aux entries) per chunk: small enough that an append-only table shares all
but its last chunk, large enough that a manifest stays a few KB."""

ChunkFetch = Callable[[Sequence[str]], Mapping[str, bytes]]
"""Given digests, their stored (compressed) chunks."""

Lock = Callable[[], AbstractContextManager[Any]]
"""Makes a lock (a cache shared by threads is given `threading.Lock` by its owner)."""


class SnapshotCodec(Protocol):
    """How manifests and chunks are compressed at rest, and the encoding name each
    snapshot records (a snapshot is only ever decoded by the codec that names it)."""

    @property
    def encoding(self) -> str:
        """The name stored with each snapshot (`Snapshot.encoding`)."""
        ...

    def compress(self, data: bytes) -> bytes:
        """`data` as stored."""
        ...

    def decompress(self, data: bytes) -> bytes:
        """Stored bytes back to what `compress` was given."""
        ...


@dataclass(frozen=True, slots=True)
class PlainCodec:
    """Chunks stored as they are: for in-memory snapshots, which nothing else reads."""

    encoding: str = "chunks/1-plain"

    def compress(self, data: bytes) -> bytes:
        """`data` itself."""
        return data

    def decompress(self, data: bytes) -> bytes:
        """`data` itself."""
        return data


PLAIN = PlainCodec()
"""The default codec: no compression."""

ENCODING = PLAIN.encoding
"""The encoding written (and read) by default."""


def chunk_digest(data: bytes) -> str:
    """The name of a chunk: a 128-bit BLAKE2b of its uncompressed JSON."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def compress_chunk(data: bytes, codec: SnapshotCodec = PLAIN) -> bytes:
    """A chunk as stored."""
    return codec.compress(data)


def _split(mapping: Mapping[str, Any], chunks: dict[str, bytes], size: int) -> list[str]:
    """Cut `mapping` into chunks (added to `chunks` by digest); returns their digests."""
    digests = []
    items = iter(mapping.items())
    for _ in range(0, len(mapping), size):
        data = orjson.dumps(dict(islice(items, size)))
        digest = chunk_digest(data)
        chunks[digest] = data
        digests.append(digest)
    return digests


def encode_states(
    states: Mapping[str, ProjectionState],
    chunk_rows: int = CHUNK_ROWS,
    codec: SnapshotCodec = PLAIN,
) -> tuple[bytes, dict[str, bytes]]:
    """(the compressed manifest, every chunk's uncompressed JSON by digest)."""
    chunks: dict[str, bytes] = {}
    manifest: dict[str, Any] = {}
    for name, state in states.items():
        aux: dict[str, Any] = {}
        for key, value in state.aux.items():
            if isinstance(value, dict) and len(value) > chunk_rows:
                aux[key] = ["c", _split(value, chunks, chunk_rows)]
            else:
                aux[key] = ["v", value]
        manifest[name] = [_split(state.rows, chunks, chunk_rows), aux]
    return codec.compress(orjson.dumps(manifest)), chunks


def manifest_digests(blob: bytes, codec: SnapshotCodec = PLAIN) -> list[str]:
    """Every chunk digest a manifest names."""
    return _digests(orjson.loads(codec.decompress(blob)))


def _digests(manifest: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for rows, aux in manifest.values():
        found.extend(rows)
        for kind, value in aux.values():
            if kind == "c":
                found.extend(value)
    return found


def _copy_rows(chunk: dict[str, Any]) -> dict[str, Any]:
    """A chunk of rows, each row copied (a fold changes a row's fields in place)."""
    return {key: dict(row) for key, row in chunk.items()}


class ChunkCache:
    """Decoded chunks shared between snapshots, so a seek copies them instead of parsing.

    A chunk is admitted on its second sighting: chunks that change with every
    snapshot (most account rows) would only push the shared ones out. Holds at most
    `max_entries` rows or aux entries; least recently used chunks go first.

    With `grow`, the bound grows to a quarter more than the largest state restored
    through it (`fit`): a restore reads its chunks in manifest order, so a cache a
    little smaller than one state's shared chunks evicts each chunk just before the
    next restore asks for it, and parses nearly everything (at 10M demo events a
    state is about 180,000 entries). Memory then stays within about one state's worth.
    """

    def __init__(
        self, max_entries: int = 100_000, lock: Lock = nullcontext, *, grow: bool = False
    ) -> None:
        self.max_entries = max_entries
        self.grow = grow
        self._seen_limit = 4 * max(1, max_entries // CHUNK_ROWS)
        """How many digests seen once are remembered (about four states' chunks)."""
        self._chunks: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._entries = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        # A timeline may serve several worker threads (a seek and a diff at once): its
        # owner then passes a real lock.
        self._lock = lock()

    def get(self, digest: str) -> dict[str, Any] | None:
        """The decoded chunk, if kept (shared: read it, never change it)."""
        with self._lock:
            chunk = self._chunks.get(digest)
            if chunk is not None:
                self._chunks.move_to_end(digest)
            return chunk

    def admits(self, digest: str) -> bool:
        """Whether an `offer` of `digest` now may keep it (here: seen before), so that a
        caller builds what it would offer only then. Counts as a sighting."""
        with self._lock:
            return self._sighted(digest)

    def _sighted(self, digest: str) -> bool:
        """Record a sighting of `digest` (under the lock); True if it was seen before."""
        if digest in self._seen:
            return True
        self._seen[digest] = None
        if len(self._seen) > self._seen_limit:
            self._seen.popitem(last=False)
        return False

    def offer(self, digest: str, chunk: dict[str, Any]) -> bool:
        """Keep `chunk` if it was seen before; True when kept (the caller must copy)."""
        with self._lock:
            if not self._sighted(digest):
                return False
            if len(chunk) > self.max_entries:
                return False
            if digest not in self._chunks:
                self._entries += len(chunk)
            self._chunks[digest] = chunk
            while self._entries > self.max_entries:
                _, dropped = self._chunks.popitem(last=False)
                self._entries -= len(dropped)
            return True

    def fit(self, entries: int, chunks: int) -> None:
        """With `grow`: raise the bound to hold a state of `entries` rows and aux entries
        in `chunks` chunks, with a quarter to spare (it never shrinks)."""
        if self.grow:
            with self._lock:
                self.max_entries = max(self.max_entries, entries + entries // 4)
                self._seen_limit = max(self._seen_limit, 4 * chunks)

    def clear(self) -> None:
        """Forget every chunk."""
        with self._lock:
            self._chunks.clear()
            self._seen.clear()
            self._entries = 0


def decode_states(
    encoding: str,
    blob: bytes,
    fetch: ChunkFetch,
    cache: ChunkCache | None = None,
    codec: SnapshotCodec = PLAIN,
) -> StateMap:
    """Fresh, independent states from a manifest and its chunks (`fetch` reads them)."""
    if encoding != codec.encoding:
        raise InvalidInput(f"unknown snapshot encoding {encoding!r}")
    manifest = orjson.loads(codec.decompress(blob))
    cache = cache if cache is not None else ChunkCache(0)
    caching = cache.max_entries > 0
    # Take the cached chunks first: admitting new ones below may evict some.
    have: dict[str, dict[str, Any]] = {}
    wanted: list[str] = []
    for digest in _digests(manifest):
        chunk = cache.get(digest)
        if chunk is None:
            wanted.append(digest)
        else:
            have[digest] = chunk
    fetched = fetch(wanted) if wanted else {}
    missing = [d for d in wanted if d not in fetched]
    if missing:
        raise InvalidInput(f"snapshot chunk {missing[0]} is missing")
    loads, inflate = orjson.loads, codec.decompress

    def fill_rows(target: dict[str, Any], digests: Iterable[str]) -> None:
        for digest in digests:
            chunk = have.get(digest)
            if chunk is None:
                chunk = loads(inflate(fetched[digest]))
                if not cache.offer(digest, chunk):
                    target.update(chunk)
                    continue
            target.update(_copy_rows(chunk))

    def fill_aux(target: dict[str, Any], digests: Iterable[str]) -> None:
        for digest in digests:
            chunk = have.get(digest)
            if chunk is None:
                raw = inflate(fetched[digest])
                chunk = loads(raw)
                # The cache keeps a copy in its own form (only built when it may keep
                # it: most chunks parsed are seen once); `chunk` stays ours.
                if caching and cache.admits(digest):
                    cache.offer(digest, shared_form(raw, chunk))
                target.update(chunk)
            else:
                target.update(private_copy(chunk))

    states: StateMap = {}
    for name, (row_digests, aux_manifest) in manifest.items():
        rows: dict[str, Any] = {}
        fill_rows(rows, row_digests)
        aux: dict[str, Any] = {}
        for key, (kind, value) in aux_manifest.items():
            if kind == "c":
                part: dict[str, Any] = {}
                fill_aux(part, value)
                aux[key] = part
            else:
                aux[key] = value
        states[name] = ProjectionState(rows=rows, aux=aux)
    if caching:  # room for the next restore (the next snapshots are about as large)
        entries = sum(
            len(state.rows) + sum(len(v) for v in state.aux.values() if isinstance(v, dict))
            for state in states.values()
        )
        cache.fit(entries, len(have) + len(wanted))
    return states


def definition(projection: Projection, digest: str = "") -> str:
    """What identifies one projection's definition in a snapshot key; `digest` names
    its code (computed outside the domain, which reads no source files)."""
    cls = type(projection)
    version = getattr(projection, "version", "")
    return f"{projection.name}={cls.__module__}.{cls.__qualname__}@{version}#{digest}"


def snapshot_key(
    projections: Sequence[Projection],
    encoding: str = ENCODING,
    define: Callable[[Projection], str] = definition,
) -> str:
    """The key of snapshots of exactly these projection definitions (order included),
    in `encoding`; `define` names each definition (by default without a code digest)."""
    text = "\n".join([encoding, *(define(p) for p in projections)])
    return "v1-" + hashlib.sha256(text.encode()).hexdigest()[:24]


class InMemorySnapshots:
    """A SnapshotStore in dicts: for tests, and for a timeline with nowhere to write."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[int, Snapshot]] = {}
        self._positions: dict[str, list[int]] = {}
        self._chunks: dict[str, dict[str, bytes]] = {}

    def save(self, snapshot: Snapshot, chunks: Mapping[str, bytes]) -> None:
        """Keep `snapshot` (replacing one at its key and position) and any new chunks."""
        self._chunks.setdefault(snapshot.key, {}).update(chunks)
        kept = self._by_key.setdefault(snapshot.key, {})
        if snapshot.position not in kept:
            positions = self._positions.setdefault(snapshot.key, [])
            positions.insert(bisect_right(positions, snapshot.position), snapshot.position)
        kept[snapshot.position] = snapshot

    def latest(self, key: str, at_or_before: int) -> Snapshot | None:
        """The snapshot of `key` with the greatest position <= `at_or_before`, if any."""
        positions = self._positions.get(key)
        if not positions:
            return None
        index = bisect_right(positions, at_or_before)
        return self._by_key[key][positions[index - 1]] if index else None

    def chunks(self, key: str, digests: Sequence[str]) -> dict[str, bytes]:
        """The stored chunks of `key` among `digests`."""
        kept = self._chunks.get(key, {})
        return {d: kept[d] for d in digests if d in kept}

    def known_chunks(self, key: str, digests: Iterable[str]) -> set[str]:
        """Which of `digests` are stored for `key`."""
        kept = self._chunks.get(key, {})
        return {d for d in digests if d in kept}

    def positions(self, key: str) -> list[int]:
        """The positions of the snapshots kept for `key`, ascending."""
        return list(self._positions.get(key, ()))

    def size(self, key: str | None = None) -> int:
        """Bytes of manifests and chunks kept for `key` (for every key when None)."""
        keys = set(self._by_key) | set(self._chunks) if key is None else {key}
        manifests = sum(len(s.blob) for k in keys for s in self._by_key.get(k, {}).values())
        return manifests + sum(len(b) for k in keys for b in self._chunks.get(k, {}).values())

    def discard(self, *, keep: str | None = None) -> int:
        """Delete the snapshots (and chunks) of every key but `keep`; returns how many
        snapshots were deleted."""
        doomed = [k for k in set(self._by_key) | set(self._chunks) if k != keep]
        count = sum(len(self._by_key.get(k, {})) for k in doomed)
        for k in doomed:
            self._by_key.pop(k, None)
            self._positions.pop(k, None)
            self._chunks.pop(k, None)
        return count
