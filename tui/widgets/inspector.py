"""The event inspector: one event's payload, metadata, chain status and links.

Links (same command, correlation, causation) are clickable and run
`screen.jump(position)`; the lookups behind them run in a worker.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.geometry import Region
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import get_current_worker

from domain.envelope import RecordedEvent
from domain.text import escape, mixed_scripts
from tui.format import position_text, time_text
from tui.proof_status import CheckedHashStatus
from tui.provenance import Provenance
from tui.services.types import HashStatus, Related

Lookup = Callable[[RecordedEvent], tuple[Related, HashStatus]]
"""`lookup(event) -> (related, hash status)`: blocking, called from a worker thread."""

SETTLE_SECONDS = 0.04
"""The inspector follows the cursor once it rests this long, so scrubbing (a held
key, a drag) spends nothing on events that are passed over."""


class EventInspector(Widget, can_focus=True):
    """Shows the event under the time cursor.

    The lookups and the rendering to lines both run in a worker; the UI thread only
    draws ready lines with the line API. It scrolls itself (wheel, or up/down when
    focused) instead of being a `ScrollView`: a scroll view's height is part of the
    screen's layout, so every event of another length would re-lay out the screen.
    """

    BINDINGS = [
        Binding("up", "scroll_lines(-1)", "Scroll up", show=False),
        Binding("down", "scroll_lines(1)", "Scroll down", show=False),
    ]

    def __init__(
        self,
        lookup: Lookup,
        *,
        id: str | None = None,
        provenance: Callable[[RecordedEvent], Provenance] | None = None,
    ) -> None:
        super().__init__(id=id)
        self._provenance = provenance
        self._origin = Provenance()
        self._base = Style()
        self._lookup = lookup
        self.event: RecordedEvent | None = None
        self.position = 0
        self._related: Related | None = None
        self._hash: HashStatus | None = None
        self._strips: list[Strip] = []
        self._drawn: dict[int, Strip] = {}
        """Lines as drawn (base style applied, cropped), for `_drawn_for`."""
        self._drawn_for: tuple[Style, int] | None = None
        self._offset = 0
        self._width = 0
        self._shown = False
        self._settle: Timer | None = None
        self.raw = False
        """Show the payload as stored (exact minor units) instead of readable numbers."""

    def on_resize(self) -> None:
        width = self._text_width
        if self._shown and width != self._width:
            self._prepare(self.event, width, self._related, self._hash)

    @property
    def _text_width(self) -> int:
        return max(8, self.content_region.width - 1)

    def show(self, position: int, event: RecordedEvent | None) -> None:
        """Inspect `event` (None at position 0, before history)."""
        same = (
            event is not None and self.event is not None and event.event_id == self.event.event_id
        )
        if same or (event is None and self.event is None and self._strips):
            return
        self.position = position
        self.event = event
        self._shown = True
        self._related = None
        self._hash = None
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(SETTLE_SECONDS, self._inspect)

    def toggle_raw(self) -> None:
        """Switch the payload between readable numbers and the JSON as stored."""
        self.raw = not self.raw
        if self._shown:
            self._prepare(self.event, self._text_width, self._related, self._hash)

    def _inspect(self) -> None:
        self._settle = None
        self._prepare(self.event, self._text_width, None, None)

    @property
    def settled(self) -> bool:
        """True when the shown event's links and chain status are drawn."""
        return self.event is None or self._related is not None

    @work(thread=True, exclusive=True, group="inspector", exit_on_error=False)
    def _prepare(
        self,
        event: RecordedEvent | None,
        width: int,
        related: Related | None,
        status: HashStatus | None,
    ) -> None:
        if event is not None and (related is None or status is None):
            related, status = self._lookup(event)
            if self._provenance is not None:
                self._origin = self._provenance(event)
        if get_current_worker().is_cancelled:
            return
        console = Console(width=width, color_system="truecolor", force_terminal=True)
        renderable = render_event(event, related, status, self._origin, raw=self.raw)
        lines = console.render_lines(renderable, console.options.update_width(width), pad=False)
        strips = [Strip(line) for line in lines]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._prepared, event, related, status, strips, width)

    def _prepared(
        self,
        event: RecordedEvent | None,
        related: Related | None,
        status: HashStatus | None,
        strips: list[Strip],
        width: int,
    ) -> None:
        if (event is None) != (self.event is None) or (
            event is not None and self.event is not None and event.event_id != self.event.event_id
        ):
            return
        self._related = related
        self._hash = status
        self._strips = strips
        self._drawn.clear()
        self._width = width
        self._offset = 0
        self.refresh()

    # -- scrolling

    @property
    def _max_offset(self) -> int:
        return max(0, len(self._strips) - self.content_region.height)

    def action_scroll_lines(self, delta: int) -> None:
        """Scroll the inspector by `delta` lines."""
        offset = max(0, min(self._max_offset, self._offset + delta))
        if offset != self._offset:
            self._offset = offset
            self.refresh()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_scroll_lines(3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_scroll_lines(-3)

    # -- drawing

    def render_lines(self, crop: Region) -> list[Strip]:
        # `rich_style` walks the DOM; look it up once per paint, not once per line.
        base = self.rich_style
        drawn_for = (base, self.content_region.width)
        if drawn_for != self._drawn_for:
            self._drawn_for = drawn_for
            self._drawn.clear()
        self._base = base
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.content_region.width
        base = self._base
        index = self._offset + y
        more = len(self._strips) - self._offset - self.content_region.height
        if more > 0 and y == self.content_region.height - 1:
            text = f"↓ {more + 1} more lines (scroll)"
            return Strip([Segment(text, base + Style(dim=True))]).extend_cell_length(width, base)
        if index >= len(self._strips):
            return Strip.blank(width, base)
        strip = self._drawn.get(index)
        if strip is None:
            strip = self._strips[index].apply_style(base).crop_extend(0, width, base)
            self._drawn[index] = strip
        return strip


def render_event(
    event: RecordedEvent | None,
    related: Related | None,
    status: HashStatus | None,
    origin: Provenance | None = None,
    *,
    raw: bool = False,
) -> RenderableType:
    """The inspector's content for `event` (pure: safe to call from a worker).

    The payload reads with its numbers written by the one rule (`related.readable`),
    unless `raw` asks for it as stored; the heading names the key that switches."""
    if event is None:
        return Text.from_markup(
            "[b]Before the first event[/b]\n\n"
            "[dim]Every projection is empty here. Press → to step into history, "
            "End to jump to the last event.[/dim]"
        )
    # Every stored string goes into Text (never markup), escaped by `domain.text.escape`.
    title = Text()
    title.append(escape(event.type), style="bold")
    if event.schema_version != 1:
        title.append(f"  v{event.schema_version}", style="dim")
    title.append("\n")
    title.append(position_text(event.position), style="bold")
    title.append(f"  {escape(event.stream_id)}", style="italic")
    title.append(f"  v{event.version}\n", style="dim")
    title.append(time_text(event.recorded_at, micros=True) + " UTC", style="dim")
    if related is not None and related.summary:
        title.append("\n" + escape(related.summary))
    readable = related.readable if related is not None else None
    heading = Text("payload", style="bold underline")
    if readable is None or readable == event.data:
        payload = payload_text(event.data)
    elif raw:
        payload = payload_text(event.data)
        heading.append(" as stored", style="bold underline")
        heading.append("   r: readable", style="dim")
    else:
        payload = payload_text(readable)
        heading.append("   r: as stored", style="dim")
    flags = _flags(origin)
    return Group(
        title,
        *flags,
        Text(""),
        heading,
        payload,
        Text(""),
        Text("metadata", style="bold underline"),
        _metadata(event, related),
        Text(""),
        Text("chain", style="bold underline"),
        _chain(event, status),
    )


def _metadata(event: RecordedEvent, related: Related | None) -> Table:
    meta = event.metadata
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("actor", actor_text(str(meta.get("actor", ""))))
    table.add_row("command", Text(escape(str(meta.get("command_type", "")))))
    table.add_row("command id", Text(escape(str(meta.get("command_id", "")))))
    correlation = str(meta.get("correlation_id", ""))
    causation = str(meta.get("causation_id", ""))
    command_id = str(meta.get("command_id", ""))
    table.add_row(
        "correlation", Text("= command" if correlation == command_id else escape(correlation))
    )
    table.add_row("causation", Text("= command" if causation == command_id else escape(causation)))
    if related is None:
        table.add_row("links", Text("looking up…", style="dim"))
        return table
    others = [p for p in related.same_command if p != event.position]
    if others:
        table.add_row("same command", _links(others))
    if related.correlated:
        table.add_row("correlated", _links(related.correlated))
    if related.cause is not None:
        table.add_row("caused by", _links([related.cause]))
    if not (others or related.correlated or related.cause is not None):
        table.add_row("links", Text("none", style="dim"))
    return table


def payload_text(data: Mapping[str, Any]) -> Text:
    """`data` as highlighted JSON, one value a line; the bidi and invisible characters
    JSON keeps are escaped.

    A line never wraps: a value folded into the next line's indentation reads as two
    values. A line wider than the panel ends with "…" at its edge.
    """
    lines = json.dumps(data, indent=2, ensure_ascii=False).split("\n")
    text = Text(
        "\n".join(escape(line, backslash=False) for line in lines),
        no_wrap=True,
        overflow="ellipsis",
    )
    JSONHighlighter().highlight(text)
    return text


def actor_text(actor: str) -> Text:
    """An actor, escaped, in bold; flagged when its letters mix scripts (a look-alike)."""
    text = Text(escape(actor), style="bold")
    if mixed_scripts(actor):
        text.append("  ⚠ look-alike: mixes scripts", style="bold yellow")
    return text


def _chain(event: RecordedEvent, status: HashStatus | None) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("prev", Text(_short_hash(event.prev_hash)))
    table.add_row("hash", Text(_short_hash(event.hash)))
    if status is None:
        table.add_row("status", Text("checking…", style="dim"))
    else:
        if status.linked is True:
            text = Text("✓ linked to the event before", style="green")
        elif status.linked is False:
            text = Text("✗ prev_hash does not match the event before", style="bold red")
        else:
            text = Text("not checked", style="dim")
        if status.verified is True:
            text.append("\n✓ hash recomputes", style="green")
        elif status.verified is False:
            text.append("\n✗ hash does not recompute: tampered?", style="bold red")
        if isinstance(status, CheckedHashStatus) and status.checkpoint is not None:
            found = status.checkpoint
            style = {True: "green", False: "bold red", None: "dim"}[found.ok]
            text.append("\n" + found.text, style=style)
        table.add_row("status", text)
        if status.clock_skew is not None:
            table.add_row("time", Text(f"⚠ {status.clock_skew.describe()}", style="bold yellow"))
    return table


def _links(positions: tuple[int, ...] | list[int]) -> Text:
    text = Text()
    for i, position in enumerate(positions[:12]):
        if i:
            text.append(" ")
        text.append(
            position_text(position),
            style=Style(underline=True, bold=True, meta={"@click": f"screen.jump({position})"}),
        )
    if len(positions) > 12:
        text.append(f" +{len(positions) - 12} more", style="dim")
    return text


def _flags(origin: Provenance | None) -> list[Text]:
    """A bad stored event's problem, and the import it arrived by (store text as Text)."""
    lines: list[Text] = []
    if origin is not None and origin.problem:
        flag = Text("\n⚠ bad stored event: ", style="bold red")
        flag.append(escape(origin.problem), style="red")
        lines.append(flag)
    if origin is not None and origin.imported:
        lines.append(Text(f"\narrived by {escape(origin.imported)}", style="yellow"))
    return lines


def _short_hash(value: str) -> str:
    return f"{value[:12]}…{value[-6:]}" if len(value) > 20 else value
