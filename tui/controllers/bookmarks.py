"""Bookmarks: loaded, forgotten and shown on the scrubber, the store's work in workers."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message

from domain.envelope import Bookmark
from domain.errors import DomainError
from domain.text import escape
from tui.controllers.workers import in_thread
from tui.format import markup_safe, position_text
from tui.widgets.scrubber import TimelineScrubber

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


class BookmarksLoaded(Message):
    """The bookmarks as the store holds them now."""

    def __init__(self, bookmarks: list[Bookmark]) -> None:
        super().__init__()
        self.bookmarks = bookmarks


class Bookmarks:
    """The bookmarks the scrubber and the palette show."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.bookmarks: list[Bookmark] = []

    def load(self) -> None:
        """Read the bookmarks again, in a worker."""
        in_thread(self.screen, self._load, group="bookmarks")

    def _load(self) -> None:
        self.screen.post_message(BookmarksLoaded(self.screen.session.bookmarks()))

    def forget(self, name: str) -> None:
        """Ask first, then delete the bookmark called `name` (in a worker)."""
        from tui.screens.confirm import ConfirmScreen

        known = next((b for b in self.bookmarks if b.name == name), None)
        where = f" at {position_text(known.position)}" if known is not None else ""
        question = ConfirmScreen(
            "Forget this bookmark?",
            f"The bookmark “{markup_safe(name)}”{where} will be deleted. "
            "The position itself and its events stay as they are.",
            [("forget", "Forget it", "error")],
            focus="cancel",
        )
        self.screen.app.push_screen(question, lambda answer: self._forget_confirmed(name, answer))

    def _forget_confirmed(self, name: str, answer: str | None) -> None:
        if answer == "forget":
            in_thread(self.screen, partial(self._forget, name), group="bookmarks")

    def _forget(self, name: str) -> None:
        screen = self.screen
        try:
            screen.session.remove_bookmark(name)
        except DomainError as exc:
            screen.app.call_from_thread(screen.notify, str(exc), severity="error")
            return
        screen.app.call_from_thread(
            screen.notify, f"Forgot the bookmark “{escape(name)}”.", timeout=4, markup=False
        )
        self._load()

    def added(self, bookmark: Bookmark | None) -> None:
        """Confirm a bookmark just kept (None: the dialog was cancelled), and show it."""
        if bookmark is not None:
            self.screen.notify(
                f"Bookmarked “{escape(bookmark.name)}” at {position_text(bookmark.position)}.",
                timeout=4,
                markup=False,
            )
        self.load()

    def loaded(self, bookmarks: list[Bookmark]) -> None:
        """Show `bookmarks` (from `BookmarksLoaded`)."""
        self.bookmarks = bookmarks
        self.screen.query_one(TimelineScrubber).update_view(bookmarks=bookmarks)
