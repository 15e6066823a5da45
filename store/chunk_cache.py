"""Decoded snapshot chunks near the cursor: what a seek back and forth parses only once.

The timeline's default cache (`domain.snapshots.ChunkCache`) admits a chunk on its
second sighting, so a snapshot restored twice is inflated and parsed twice, and one
beside it (which shares most chunks: past days, old flags, accounts that did not
move) is parsed again in full. Scrubbing, stepping back out of a cursor's window and
jumping between two marks restore the same or neighbouring snapshots over and over.
`NearCursorChunks` keeps every chunk it decodes at once, least recently used out
first: the chunks of the snapshots restored last stay, whatever their age, and a
restore near them inflates and parses only the chunks that changed.

Memory stays bounded by `max_entries` rows (or aux entries) in all, as the default
cache is (with `grow`, a quarter more than the largest state restored, if that is more:
`ChunkCache.fit`). When one state is larger than that, keeping each chunk at first sight
would only make a restore evict its own earlier chunks: a chunk is then kept only if
it fits without evicting one of the restore under way (the restore's first chunks
stay, the rest are parsed as they would be without a cache).
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import nullcontext
from typing import Any

from domain.snapshots import ChunkCache, Lock

DEFAULT_ENTRIES = 100_000
"""Rows (or aux entries) kept decoded: the default cache's bound."""


class NearCursorChunks(ChunkCache):
    """A `ChunkCache` that keeps the chunks of the snapshots restored last.

    A restore (`domain.snapshots.decode_states`) asks for every chunk of its manifest
    (`get`), then offers the ones it had to parse (`offer`): a `get` after an `offer`
    begins the next restore.
    """

    def __init__(
        self, max_entries: int = DEFAULT_ENTRIES, lock: Lock = nullcontext, *, grow: bool = False
    ) -> None:
        super().__init__(max_entries, lock, grow=grow)
        self._kept: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._count = 0
        self._current: set[str] = set()
        """Digests the restore under way uses (never evicted for one of its own)."""
        self._offering = False

    @property
    def entries(self) -> int:
        """Rows and aux entries kept now (at most `max_entries`)."""
        return self._count

    def get(self, digest: str) -> dict[str, Any] | None:
        """The decoded chunk, if kept (shared: read it, never change it)."""
        with self._lock:
            if self._offering:  # a new restore begins
                self._offering = False
                self._current.clear()
            self._current.add(digest)
            chunk = self._kept.get(digest)
            if chunk is not None:
                self._kept.move_to_end(digest)
            return chunk

    def admits(self, digest: str) -> bool:
        """True: this cache may keep any chunk at its first sighting (see `offer`)."""
        return True

    def offer(self, digest: str, chunk: dict[str, Any]) -> bool:
        """Keep `chunk` at once (True: the caller must copy it), least recently used
        out first, unless making room would evict a chunk of this same restore."""
        with self._lock:
            self._offering = True
            if digest in self._kept:
                self._kept.move_to_end(digest)
                return True
            size = len(chunk)
            if size > self.max_entries:
                return False
            room = self.max_entries - self._count
            if size > room:
                freed = 0
                doomed: list[str] = []
                for old, kept in self._kept.items():  # least recently used first
                    if old in self._current:
                        return False  # the state is larger than the cache: parse the rest
                    doomed.append(old)
                    freed += len(kept)
                    if size <= room + freed:
                        break
                else:
                    return False
                for old in doomed:
                    self._count -= len(self._kept.pop(old))
            self._kept[digest] = chunk
            self._count += size
            return True

    def clear(self) -> None:
        """Forget every chunk."""
        with self._lock:
            self._kept.clear()
            self._current.clear()
            self._count = 0
            self._offering = False
