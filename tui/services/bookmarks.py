"""Bookmarks: named positions, kept in the database (or, read-only, for the session)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.envelope import Bookmark
from store import bookmarks as bookmark_rules
from tui.services.calls import InFlight, blocking

if TYPE_CHECKING:
    from tui.services.types import AppStore


class Bookmarks:
    """The bookmarks the app lists and jumps to. Blocking; call from workers."""

    def __init__(self, store: AppStore, *, read_only: bool, actor: str, calls: InFlight) -> None:
        self.store = store
        self.read_only = read_only
        self.actor = actor
        self.calls = calls
        self._own: dict[str, int] = {}
        """This session's bookmarks when the database is read-only."""

    @blocking
    def bookmarks(self) -> list[Bookmark]:
        """Every bookmark (the database's, and this session's own when read-only), by position."""
        kept = {b.name: b for b in self.store.bookmarks()}
        for name, position in self._own.items():
            kept[name] = Bookmark(name, position, self.actor)
        return sorted(kept.values(), key=lambda b: (b.position, b.name))

    @blocking
    def add_bookmark(self, name: str, position: int) -> Bookmark:
        """Keep `position` under `name` (moving a bookmark of that name).

        Kept in the database, so it survives reopening; read-only, for this session only.
        """
        name = name.strip()
        if self.read_only:
            name = bookmark_rules.check_name(name)
            self._own[name] = position
            return Bookmark(name, position, self.actor)
        return self.store.set_bookmark(name, position, actor=self.actor)

    @blocking
    def remove_bookmark(self, name: str) -> None:
        """Forget the bookmark called `name`."""
        if name in self._own:
            del self._own[name]
        elif not self.read_only:
            self.store.delete_bookmark(name)
