"""Snapshots of projection states: encoding, keys, and an in-memory store.

Encoding (`chunks/1`): content-addressed chunks plus a small manifest.

    Each projection's rows, in their own (insertion) order, are cut into chunks of
    `CHUNK_ROWS`; so is every large dict in its `aux`. A chunk is an orjson object
    named by the BLAKE2b digest of its bytes and stored zlib-compressed, once per
    snapshot key; the snapshot itself is a manifest listing its chunks' digests
    (plus small aux values inline).

Why: in an append-mostly history most of a state does not change between two
snapshots. Audit flags and past days only ever get new rows, and account-to-currency
maps rarely change, so their chunks are shared by every later snapshot: each new
snapshot stores only the chunks that changed (on the 1M-event demo ledger, chiefly
the account rows), which keeps snapshots well under a quarter of the event storage
at a denser cadence than whole-state blobs could afford. Unlike delta chains, any
snapshot still decodes in one step, and a shared chunk, once decoded, is kept in a
small cache (`ChunkCache`) and copied instead of parsed again, which is what makes
repeated seeks cheap. JSON because states are JSON by contract and must stay
readable across Python versions; orjson because it is the fastest parser at hand;
zlib because it shrinks these repetitive tables 5-6x and inflates much faster than
JSON parses.

Keys: a snapshot key names the projection definitions it was built with: each
projection's name, class, `version` attribute (if any) and a hash of its module's
source. Changing a projection's code or settings changes the key, and snapshots of
the old definitions are never read again (`discard` drops them). A projection whose
output depends on code outside its module must bump its `version` when that changes.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import threading
import zlib
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from itertools import islice
from typing import Any

import orjson

from domain.errors import InvalidInput
from domain.ports import Snapshot
from domain.projection import Projection, ProjectionState, StateMap

ENCODING = "chunks/1"
"""The encoding written (and read)."""

CHUNK_ROWS = 256
"""Rows (or aux entries) per chunk: small enough that an append-only table shares all
but its last chunk, large enough that a manifest stays a few KB."""

_LEVEL = 6

ChunkFetch = Callable[[Sequence[str]], Mapping[str, bytes]]
"""Given digests, their stored (compressed) chunks."""


def chunk_digest(data: bytes) -> str:
    """The name of a chunk: a 128-bit BLAKE2b of its uncompressed JSON."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def compress_chunk(data: bytes) -> bytes:
    """A chunk as stored."""
    return zlib.compress(data, _LEVEL)


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
    states: Mapping[str, ProjectionState], chunk_rows: int = CHUNK_ROWS
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
    return zlib.compress(orjson.dumps(manifest), _LEVEL), chunks


def manifest_digests(blob: bytes) -> list[str]:
    """Every chunk digest a manifest names."""
    return _digests(orjson.loads(zlib.decompress(blob)))


def _digests(manifest: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for rows, aux in manifest.values():
        found.extend(rows)
        for kind, value in aux.values():
            if kind == "c":
                found.extend(value)
    return found


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    return value


class ChunkCache:
    """Decoded chunks shared between snapshots, so a seek copies them instead of parsing.

    A chunk is admitted on its second sighting: chunks that change with every
    snapshot (most account rows) would only push the shared ones out. Holds at most
    `max_entries` rows or aux entries; least recently used chunks go first.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._chunks: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._entries = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        # A timeline may serve several worker threads (a seek and a diff at once).
        self._lock = threading.Lock()

    def get(self, digest: str) -> dict[str, Any] | None:
        """The decoded chunk, if kept (shared: read it, never change it)."""
        with self._lock:
            chunk = self._chunks.get(digest)
            if chunk is not None:
                self._chunks.move_to_end(digest)
            return chunk

    def offer(self, digest: str, chunk: dict[str, Any]) -> bool:
        """Keep `chunk` if it was seen before; True when kept (the caller must copy)."""
        with self._lock:
            if digest not in self._seen:
                self._seen[digest] = None
                if len(self._seen) > 4 * max(1, self.max_entries // CHUNK_ROWS):
                    self._seen.popitem(last=False)
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

    def clear(self) -> None:
        """Forget every chunk."""
        with self._lock:
            self._chunks.clear()
            self._seen.clear()
            self._entries = 0


def decode_states(
    encoding: str, blob: bytes, fetch: ChunkFetch, cache: ChunkCache | None = None
) -> StateMap:
    """Fresh, independent states from a manifest and its chunks (`fetch` reads them)."""
    if encoding != ENCODING:
        raise InvalidInput(f"unknown snapshot encoding {encoding!r}")
    manifest = orjson.loads(zlib.decompress(blob))
    cache = cache if cache is not None else ChunkCache(0)
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
    loads, inflate = orjson.loads, zlib.decompress

    def fill(target: dict[str, Any], digests: Iterable[str], copy: Callable[[Any], Any]) -> None:
        for digest in digests:
            chunk = have.get(digest)
            if chunk is None:
                chunk = loads(inflate(fetched[digest]))
                if not cache.offer(digest, chunk):
                    target.update(chunk)
                    continue
            for key, value in chunk.items():
                target[key] = copy(value)

    states: StateMap = {}
    for name, (row_digests, aux_manifest) in manifest.items():
        rows: dict[str, Any] = {}
        fill(rows, row_digests, dict)
        aux: dict[str, Any] = {}
        for key, (kind, value) in aux_manifest.items():
            if kind == "c":
                part: dict[str, Any] = {}
                fill(part, value, _copy)
                aux[key] = part
            else:
                aux[key] = value
        states[name] = ProjectionState(rows=rows, aux=aux)
    return states


@cache
def _module_digest(module_name: str) -> str:
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        # No source (a frozen app): the explicit `version` attributes must do.
        source = ""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def definition(projection: Projection) -> str:
    """What identifies one projection's definition in a snapshot key."""
    cls = type(projection)
    version = getattr(projection, "version", "")
    digest = _module_digest(cls.__module__)
    return f"{projection.name}={cls.__module__}.{cls.__qualname__}@{version}#{digest}"


def snapshot_key(projections: Sequence[Projection]) -> str:
    """The key of snapshots of exactly these projection definitions (order included)."""
    text = "\n".join([ENCODING, *(definition(p) for p in projections)])
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
