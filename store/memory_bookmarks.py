"""The in-memory store's bookmarks: annotations, not audit facts (mutable, outside the
hash chain). A mixin of `store.memory.InMemoryEventStore`, over its fields (one lock).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from domain.envelope import Bookmark
from store import bookmarks as bookmark_rules


class MemoryBookmarks:
    """`AuditRecords`' bookmarks, in memory."""

    _lock: threading.RLock
    _bookmarks: dict[str, Bookmark]
    _rows: Sequence[object]
    _commits: int

    def bookmarks(self) -> list[Bookmark]:
        """Every bookmark, by position (then name)."""
        with self._lock:
            return sorted(self._bookmarks.values(), key=lambda b: (b.position, b.name))

    def set_bookmark(self, name: str, position: int, *, actor: str) -> Bookmark:
        """Keep `position` (0..head) under `name`; re-using a name moves that bookmark.

        See `SqliteEventStore.set_bookmark`.
        """
        bookmark = Bookmark(bookmark_rules.check_name(name), position, actor, bookmark_rules.now())
        with self._lock:
            bookmark_rules.check_position(position, len(self._rows))
            self._bookmarks[name] = bookmark
            self._commits += 1
        return bookmark

    def delete_bookmark(self, name: str) -> bool:
        """Delete the bookmark called `name`; False when there was none."""
        with self._lock:
            if self._bookmarks.pop(name, None) is None:
                return False
            self._commits += 1
            return True
