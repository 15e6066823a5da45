"""The header line: database, LIVE or AT #position, read-side lag, chain, filter, playback."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from textual.content import Content
from textual.markup import escape
from textual.widget import Widget

from domain.text import escape as escape_text
from tui.derived_check import DerivedStatus
from tui.format import markup_safe, position_text, time_text
from tui.services.types import ChainStatus


@dataclass(frozen=True)
class StatusView:
    """Everything the header shows; the screen replaces it, the bar draws it."""

    db_name: str = ""
    live: bool = True
    position: int = 0
    time: str = ""
    head: int = 0
    lag: int = 0
    """How many events the read models are behind the head."""
    updating_to: int | None = None
    """After a command: the position the panels are waiting for."""
    read_error: str = ""
    """Why the projector stopped (empty while it runs)."""
    read_note: str = ""
    """What the projector is doing, when it is worth saying (`rebuilding read models`)."""
    chain: ChainStatus = field(default_factory=lambda: ChainStatus("unknown"))
    checkpoint: str = ""
    """The latest checkpoint's check ("checkpoint 1,234 ✓" or "… ✗"); empty when none."""
    derived: DerivedStatus = field(default_factory=lambda: DerivedStatus("unchecked"))
    """The background deep check of snapshots, read models and commands rows."""
    filter: str = ""
    playing: bool = False
    speed: int = 0
    read_only: bool = False
    actor: str = ""
    marks: tuple[tuple[str, int], ...] = ()
    replaying: bool = False
    """The panels are still replaying to the cursor (shown after a short delay)."""


class StatusBar(Widget):
    """A one-line header, drawn from a `StatusView`.

    A plain widget with `render()`: updating it repaints one line and never asks the
    screen for a new layout (a `Static` would, on every step of the cursor).
    """

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = StatusView()
        self._drawn: tuple[StatusView, int, Content] | None = None

    def update_view(self, **changes: Any) -> None:
        """Change some of what the header shows."""
        view = replace(self.view, **changes)
        if view != self.view:
            self.view = view
            self.refresh()

    def render(self) -> Content:
        width = self.content_region.width
        drawn = self._drawn
        if drawn is not None and drawn[0] is self.view and drawn[1] == width:
            return drawn[2]
        content = self._content(width)
        self._drawn = (self.view, width, content)
        return content

    def _content(self, width: int) -> Content:
        # Parsed part by part through a cache: most parts repeat from one step to the next.
        left_parts, right_parts = self._left(), self._right()
        left = Content("  ").join(_markup(part) for part in left_parts)
        right = Content("  ").join(_markup(part) for part in right_parts)
        room = max(0, width - right.cell_length - 2)
        # When narrow, what gives way first: a read-model check that passed (what went
        # wrong on the left matters more), then who you are, then the app's name; only
        # then is the left cut, so the position and the head stay whole ("of #6…" never).
        if left.cell_length > room and self.view.derived.state != "broken":
            right_parts = right_parts[1:]
            right = Content("  ").join(_markup(part) for part in right_parts)
            room = max(0, width - right.cell_length - 2)
        if left.cell_length > room and self.view.actor and not self.view.read_only:
            right_parts = right_parts[:-1]
            right = Content("  ").join(_markup(part) for part in right_parts)
            room = max(0, width - right.cell_length - 2)
        if left.cell_length > room:
            # The database's name gives way before the positions (cut, then gone).
            rest = Content("  ").join(_markup(part) for part in left_parts[1:])
            name = Content(escape_text(self.view.db_name))
            name_room = room - rest.cell_length - 2
            if name_room >= 4:
                left = Content.assemble(name.truncate(name_room, ellipsis=True), "  ", rest)
            else:
                left = rest
        if left.cell_length > room and not self.view.live:
            # Then the cursor's time (the scrubber shows it too), before anything is cut.
            rest = Content("  ").join(_markup(part) for part in self._left(with_time=False)[1:])
            left = rest if rest.cell_length <= room else left
        if left.cell_length > room:
            left = left.truncate(room, ellipsis=True)
        gap = max(2, width - left.cell_length - right.cell_length)
        return Content.assemble(left, " " * gap, right)

    def _left(self, *, with_time: bool = True) -> list[str]:
        v = self.view
        parts = [f"[b]eventscope[/b] [dim]·[/dim] {markup_safe(v.db_name)}"]
        if v.live:
            parts.append(f"[reverse $success] LIVE [/] {position_text(v.position)}")
        else:
            parts.append(
                f"[reverse $warning] AT {position_text(v.position)} [/]"
                + (f" {escape(time_text(v.time))}" if with_time else "")
                + f" [dim]of {position_text(v.head)}[/dim]"
            )
        if v.replaying:
            parts.append("[$text-warning]replaying…[/]")
        if v.read_error:
            parts.append(f"[reverse $error] ✗ {markup_safe(short_error(v.read_error))} [/]")
        elif v.updating_to is not None:
            parts.append(f"[$warning]updating… → {position_text(v.updating_to)}[/]")
        elif v.lag > 0:
            parts.append(f"[$warning]catching up: {v.lag:,} behind[/]")
        if v.read_note and not v.read_error:
            parts.append(f"[$text-warning]{markup_safe(v.read_note)}[/]")
        if v.playing:
            parts.append(f"[$accent]▶ {v.speed:,} ev/s[/]")
        if v.marks:
            parts.append(" ".join(f"[b]{n}[/b]={position_text(p)}" for n, p in v.marks))
        if v.filter:
            parts.append(f"[$accent]filter[/] {markup_safe(v.filter)}")
        return parts

    def _right(self) -> list[str]:
        v = self.view
        right = [_derived_part(v.derived)]
        chain = v.chain
        if chain.state == "ok":
            right.append("[$success]chain ✓[/]")
        elif chain.state == "broken":
            at = f" at {position_text(chain.position)}" if chain.position else ""
            right.append(f"[reverse $error] chain ✗{at} [/]")
        elif chain.state == "checking":
            right.append("[dim]chain …[/dim]")
        else:
            right.append("[dim]chain ?[/dim]")
        if v.checkpoint:
            style = "$success" if v.checkpoint.endswith("✓") else "$error"
            right.append(f"[{style}]{markup_safe(v.checkpoint)}[/]")
        if v.read_only:
            right.append("[$warning]read-only[/]")
        elif v.actor:
            right.append(f"[dim]as[/dim] {markup_safe(v.actor)}")
        return right


def _derived_part(derived: DerivedStatus) -> str:
    """`read models ✓ at #N` only for what the deep check compared."""
    if derived.state == "ok":
        return f"[$success]read models ✓ at {position_text(derived.position)}[/]"
    if derived.state == "broken":
        return f"[reverse $error] ✗ {escape(_short(derived.headline))} [/]"
    if derived.state == "checking":
        return "[dim]read models: checking…[/dim]"
    return "[dim]read models: unchecked[/dim]"


def _short(text: str, width: int = 56) -> str:
    """A deep-check finding cut to fit the header (the CLI's `verify --deep` says all)."""
    return text if len(text) <= width else text[: width - 1] + "…"


@lru_cache(maxsize=256)
def _markup(text: str) -> Content:
    return Content.from_markup(text)


def short_error(text: str) -> str:
    """A projector error cut to what failed and where, to fit the header.

    `projection audit_flags failed on event #7 (MoneyDeposited): ValueError: …` becomes
    `audit_flags failed at #7 (MoneyDeposited)`; other errors lose their cause only. A
    leading database URL (`postgresql://u:***@host/db: role u may not …`, how the
    PostgreSQL store names itself) is dropped too: the header names the database already.
    """
    location, _, rest = text.partition(": ")
    if rest and "://" in location and not any(c.isspace() for c in location):
        text = rest
    head, _, _ = text.partition(": ")
    named = _FAILED.fullmatch(head)
    if named is not None:
        return f"{named['what']} failed at {named['where']}"
    head = head.partition("; ")[0]
    return _CAUSE.sub("", head) or text


_CAUSE = re.compile(r" \([^()]*\)$")
"""The server's own words in brackets at the end (the CLI prints them)."""
_FAILED = re.compile(r"(?:projection )?(?P<what>.+?) failed on event (?P<where>#\d+ \(.*\))")
