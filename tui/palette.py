"""ctrl+p: jump to a position, time, bookmark or stream; run a command; switch theme."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from domain.clock import parse_time
from domain.text import escape
from tui.controllers.projector_delay import PRESETS_MS, delay_label, set_projector_delay
from tui.controllers.timed_play import play_timed
from tui.format import position_text
from tui.services.timed_play import LENGTHS

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


class EventscopeCommands(Provider):
    """The app's own entries in the command palette."""

    async def startup(self) -> None:
        main = self._main()
        self._streams: list[str] = []
        if main is not None:
            try:
                self._streams = await asyncio.to_thread(main.session.streams)
            except Exception:  # the palette still works without stream entries
                self._streams = []

    def _main(self) -> MainScreen | None:
        from tui.screens.main import MainScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _entries(self, main: MainScreen) -> list[tuple[str, Callable[[], object], str]]:
        entries: list[tuple[str, Callable[[], object], str]] = [
            ("Go live", main.action_live, "Follow the newest events"),
            ("Go to start", main.action_first, "Before the first event"),
            ("Go to position or time…", main.action_goto, "Type a position or an ISO time"),
            ("Filter events…", main.action_filter, "By stream, type, actor or text"),
            ("Find in state…", main.action_find, "Rows and cells of every panel, at the cursor"),
            ("Bookmark this position…", main.action_bookmark, "Name the cursor's position"),
            ("Aggregate history…", main.action_aggregate, "One stream's events and states"),
            ("Play / pause", main.action_play, "Replay history like a video"),
            ("CQRS flow", main.action_flow, "The latest command, stage by stage (f)"),
        ]
        entries += [
            (
                f"Play the cursor's day in {length} s",
                partial(play_timed, main, "day", length),
                "Autoplay in the original timing, compressed",
            )
            for length in LENGTHS
        ]
        entries.append(
            (
                "Play to the end in 60 s",
                partial(play_timed, main, "rest", 60),
                "Autoplay from the cursor in the original timing, compressed",
            )
        )
        if main.session.read_side is not None:
            entries += [
                (
                    f"Projector delay: {delay_label(ms)}",
                    partial(set_projector_delay, main, ms),
                    "Hold the read models back, to show eventual consistency",
                )
                for ms in PRESETS_MS
            ]
        if not main.session.read_only:
            for command in main.session.commands:
                entries.append(
                    (
                        f"Run command: {command.title or command.type_name}",
                        partial(self._open_command, main, command.type_name),
                        (command.__doc__ or "").strip().splitlines()[0]
                        if command.__doc__
                        else command.type_name,
                    )
                )
        for bookmark in main.bookmarks:
            entries.append(
                (
                    f"Bookmark: {escape(bookmark.name)}",
                    partial(main.go, bookmark.position),
                    f"Jump to {position_text(bookmark.position)}",
                )
            )
        for bookmark in main.bookmarks:
            entries.append(
                (
                    f"Forget bookmark: {escape(bookmark.name)}",
                    partial(main.forget_bookmark, bookmark.name),
                    f"Delete the bookmark at {position_text(bookmark.position)}",
                )
            )
        for stream in getattr(self, "_streams", [])[:5000]:
            entries.append(
                (
                    f"Stream: {escape(stream)}",
                    partial(main.open_stream, stream),
                    "Its events and the aggregate's state after each",
                )
            )
        return entries

    def _open_command(self, main: MainScreen, type_name: str) -> None:
        main.commands.open_form(type_name)

    async def discover(self) -> Hits:
        main = self._main()
        if main is None:
            return
        for text, callback, help_text in self._entries(main)[:12]:
            # Content, not a str: an entry naming a bookmark or stream is never markup.
            yield DiscoveryHit(Content(text), callback, help=help_text)

    async def search(self, query: str) -> Hits:
        main = self._main()
        if main is None:
            return
        raw = query.strip().removeprefix("#").replace(",", "")
        if raw.isdigit():
            position = int(raw)
            yield Hit(
                1.0,
                f"Go to {position_text(position)}",
                partial(main.go, position),
                help="Move the time cursor there",
            )
        elif len(raw) >= 10 and raw[:4].isdigit():
            try:
                parse_time(raw)
            except (ValueError, OverflowError):
                pass
            else:
                yield Hit(
                    1.0,
                    f"Go to time {raw}",
                    partial(self._go_time, main, raw),
                    help="The last event at or before that time",
                )
        matcher = self.matcher(query)
        for text, callback, help_text in self._entries(main):
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, text=text, help=help_text)

    def _go_time(self, main: MainScreen, text: str) -> None:
        main.go_to_text(text)
