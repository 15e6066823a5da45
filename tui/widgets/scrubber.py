"""The timeline scrubber: event density over time, the cursor, marks and bookmarks.

The x axis is time, not position: positions are gap-free, so density over positions
would be flat, while density over time shows bursts, quiet nights and outages. Each
column is one time bucket, except that a long idle stretch (months between a demo and
a live write) is folded into one break column `┊` (`tui.services.time_axis`). Clicking
or dragging moves the cursor to the last event of the bucket under the mouse.

    ▁▂▅█▇▃  ▁▂▃▅▆▇█▇▅▃▂▁ ┊ ▂▃▅▇▅▃▂      density (played part brighter)
          ◆      A    ▲ ┊    B          bookmarks, marks, cursor
    03-01 09:00      #1,234 · 03-02 10:14      03-04 18:30
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import groupby

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from domain.envelope import Bookmark
from tui.format import position_text, time_text
from tui.services.types import TimeAxis

BARS = " ▁▂▃▄▅▆▇█"
BREAK = "┊"
"""A long idle stretch folded into one column (`TimeAxis.breaks`)."""


class TimelineScrubber(Widget, can_focus=False):
    """A three-line strip along the bottom of the main screen."""

    COMPONENT_CLASSES = {
        "scrubber--played",
        "scrubber--ahead",
        "scrubber--cursor",
        "scrubber--mark",
        "scrubber--range",
        "scrubber--bookmark",
        "scrubber--label",
        "scrubber--live",
    }

    class Scrubbed(Message):
        """The user clicked or dragged to `position` (`final` on mouse release)."""

        def __init__(self, position: int, final: bool) -> None:
            super().__init__()
            self.position = position
            self.final = final

    class Resized(Message):
        """The scrubber needs an axis with `buckets` columns."""

        def __init__(self, buckets: int) -> None:
            super().__init__()
            self.buckets = buckets

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.axis: TimeAxis | None = None
        self.position = 0
        self.cursor_time = ""
        self.live = True
        self.marks: dict[str, int] = {}
        self.bookmarks: Sequence[Bookmark] = ()
        self._dragging = False
        self._bars: tuple[TimeAxis, int, str] | None = None
        """The density characters for (axis, columns): recomputed only with the axis."""
        self._styles: dict[str, Style] = {}
        self._drawn_looks: tuple[object, object, object] | None = None

    # -- data in

    def update_view(
        self,
        *,
        position: int | None = None,
        cursor_time: str | None = None,
        live: bool | None = None,
        axis: TimeAxis | None = None,
        marks: dict[str, int] | None = None,
        bookmarks: Sequence[Bookmark] | None = None,
    ) -> None:
        """Set any of the scrubber's inputs and redraw."""
        if position is not None:
            self.position = position
        if cursor_time is not None:
            self.cursor_time = cursor_time
        if live is not None:
            self.live = live
        if axis is not None:
            self.axis = axis
        if marks is not None:
            self.marks = dict(marks)
        if bookmarks is not None:
            self.bookmarks = list(bookmarks)
        looks = self._looks()
        drawn = self._drawn_looks
        lines = [y for y in range(3) if drawn is None or drawn[y] != looks[y]]
        if len(lines) == 3:
            self.refresh()
        elif lines:
            self.refresh(*(Region(0, y, self.size.width, 1) for y in lines))

    def _looks(self) -> tuple[object, object, object]:
        """What each line shows, as values: a step that stays in one time bucket changes
        only the label line, so only it is repainted."""
        column = self._column(self.position)
        bars = (self.axis, column, self.live, tuple(sorted(self.marks.items())))
        markers = (*bars, tuple((b.name, b.position) for b in self.bookmarks))
        label = (self.axis, column, self.live, self.position, self.cursor_time)
        return bars, markers, label

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized(max(1, self.content_region.width)))

    # -- drawing

    def _column(self, position: int) -> int:
        axis = self.axis
        if axis is None or axis.head == 0:
            return 0
        if position > axis.head:
            return len(axis.boundaries) - 2
        return axis.bucket_of(position)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles are looked up once per paint (the cursor moves with every step).
        base = self.rich_style
        self._styles = {"": base} | {
            name: base + self.get_component_rich_style(f"scrubber--{name}")
            for name in ("played", "ahead", "cursor", "mark", "bookmark", "label", "live")
        }
        self._styles["range"] = self.get_component_rich_style("scrubber--range")
        self._drawn_looks = self._looks()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._styles.get("") or self.rich_style
        axis = self.axis
        if axis is None or len(axis.boundaries) < 2:
            if y == 1:
                return Strip([Segment(" loading timeline…", base)]).extend_cell_length(width, base)
            return Strip.blank(width, base)
        columns = min(width, len(axis.boundaries) - 1)
        cursor = self._column(self.position)
        if y == 0:
            return self._density_line(axis, columns, cursor, base).extend_cell_length(width, base)
        if y == 1:
            return self._marker_line(columns, cursor, base).extend_cell_length(width, base)
        if y == 2:
            return self._label_line(axis, width, cursor, base)
        return Strip.blank(width, base)

    def _density_bars(self, axis: TimeAxis, columns: int) -> str:
        cached = self._bars
        if cached is not None and cached[0] is axis and cached[1] == columns:
            return cached[2]
        counts = axis.counts[:columns]
        peak = max(counts) if counts else 0
        bars = []
        for count in counts:
            level = 0
            if count and peak:
                # sqrt scaling keeps a quiet bucket visible next to a burst
                level = max(1, math.ceil(math.sqrt(count / peak) * (len(BARS) - 1)))
            bars.append(BARS[level])
        for column in axis.breaks:
            if column < len(bars):
                bars[column] = BREAK
        text = "".join(bars)
        self._bars = (axis, columns, text)
        return text

    def _density_line(self, axis: TimeAxis, columns: int, cursor: int, base: Style) -> Strip:
        bars = self._density_bars(axis, columns)
        styles = self._styles
        played, ahead, cursor_style = styles["played"], styles["ahead"], styles["cursor"]
        in_range = self._range_columns()
        range_style = styles["range"]
        looks: list[Style] = []
        for i in range(len(bars)):
            if i == cursor:
                looks.append(cursor_style)
                continue
            style = played if i < cursor or (self.live and i <= cursor) else ahead
            if in_range is not None and in_range[0] <= i <= in_range[1]:
                style = style + range_style
            looks.append(style)
        segments = []
        start = 0
        for style, run in groupby(looks):
            length = len(list(run))
            text = bars[start : start + length]
            if start == cursor and length == 1 and text == " ":
                text = "▏"
            segments.append(Segment(text, style))
            start += length
        return Strip(segments)

    def _range_columns(self) -> tuple[int, int] | None:
        if "A" in self.marks and "B" in self.marks:
            a, b = self._column(self.marks["A"]), self._column(self.marks["B"])
            return (min(a, b), max(a, b))
        return None

    def _marker_line(self, columns: int, cursor: int, base: Style) -> Strip:
        cells: list[tuple[str, Style]] = [(" ", base)] * columns
        styles = self._styles
        if self.axis is not None:
            for column in self.axis.breaks:
                if column < columns:
                    cells[column] = (BREAK, styles["label"])
        bookmark_style = styles["bookmark"]
        for bookmark in self.bookmarks:
            column = self._column(bookmark.position)
            if column < columns:
                cells[column] = ("◆", bookmark_style)
        mark_style = styles["mark"]
        for name, position in self.marks.items():
            column = self._column(position)
            if column < columns:
                cells[column] = (name, mark_style)
        cursor_style = styles["live" if self.live else "cursor"]
        if cursor < columns:
            cells[cursor] = ("▲", cursor_style)
        return Strip([Segment(char, style) for char, style in cells]).simplify()

    def _label_line(self, axis: TimeAxis, width: int, cursor: int, base: Style) -> Strip:
        label_style = self._styles["label"]
        left = time_text(axis.first, seconds=False)
        right = time_text(axis.last, seconds=False)
        if self.live:
            middle = f"LIVE {position_text(self.position)}"
        else:
            middle = f"{position_text(self.position)} · {time_text(self.cursor_time)}"
        line = [" "] * width
        start = max(0, min(width - len(middle), cursor - len(middle) // 2))
        _place(line, start, middle)
        # The ends give way to the cursor's label rather than overlap it.
        if len(left) + 2 < start:
            _place(line, 0, left)
        if start + len(middle) + 2 < width - len(right):
            _place(line, width - len(right), right)
        text = "".join(line)
        cursor_style = self._styles["live" if self.live else "cursor"]
        return Strip(
            [
                Segment(text[:start], label_style),
                Segment(text[start : start + len(middle)], cursor_style),
                Segment(text[start + len(middle) :], label_style),
            ]
        )

    # -- mouse

    def _position_at(self, x: int) -> int:
        axis = self.axis
        if axis is None or len(axis.boundaries) < 2:
            return 0
        if x < 0:
            return 0
        return axis.position_in(x)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self.axis is None:
            return
        self._dragging = True
        self.capture_mouse()
        self.post_message(
            self.Scrubbed(self._position_at(event.get_content_offset_capture(self).x), final=False)
        )

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.post_message(
                self.Scrubbed(
                    self._position_at(event.get_content_offset_capture(self).x), final=False
                )
            )

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
            self.post_message(
                self.Scrubbed(
                    self._position_at(event.get_content_offset_capture(self).x), final=True
                )
            )


def _place(line: list[str], start: int, text: str) -> None:
    for i, char in enumerate(text):
        if 0 <= start + i < len(line):
            line[start + i] = char
