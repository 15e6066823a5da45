"""The event log: a virtual list over the whole store that reads only what it shows.

Rows are fetched a page at a time in thread workers and cached around the viewport;
a row whose page has not arrived yet draws as a placeholder for a frame, so scrolling
a million events never blocks the UI.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from domain.envelope import RecordedEvent
from domain.text import escape
from tui.format import payload_summary, position_text, short_time_text, time_text
from tui.services.types import LogIndex
from tui.widgets.column_fit import cut_words
from tui.widgets.log_columns import LogColumns, first_page_widths, log_columns, longest_type

PageFetcher = Callable[[LogIndex, int, int], list[RecordedEvent]]
"""`fetch(index, start_row, count)`: blocking, called from a worker thread."""
Summarizer = Callable[[RecordedEvent], str]
"""`summarize(event)`: the one-line payload column (the domain's wording)."""

PAGE = 64
MAX_PAGES = 96


class EventLog(ScrollView, can_focus=True):
    """Every event (or every event passing the filter), one per line, position order."""

    BINDINGS = [
        Binding("up", "navigate(-1)", "Previous", show=False),
        Binding("down", "navigate(1)", "Next", show=False),
    ]

    COMPONENT_CLASSES = {
        "log--header",
        "log--cursor",
        "log--near",
        "log--position",
        "log--time",
        "log--stream",
        "log--type",
        "log--actor",
        "log--summary",
        "log--loading",
        "log--same-command",
        "log--future",
        "log--applied",
        "log--undone",
    }

    class Navigate(Message):
        """The user moved through the log with the keyboard."""

        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    class EventClicked(Message):
        """The user clicked the row of the event at `position`."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    def __init__(
        self,
        fetch: PageFetcher,
        summarize: Summarizer | None = None,
        *,
        type_names: Iterable[str] = (),
        id: str | None = None,
    ) -> None:
        """`type_names`: the event types the domain's catalog declares, which bound the
        type column (see `tui.widgets.log_columns`)."""
        super().__init__(id=id)
        self._base = Style()
        self._width = 0
        self._widest_type = longest_type(type_names)
        self._fitted: tuple[int, int] | None = None
        """The widest stream id and actor of the first page read (`first_page_widths`)."""
        self._columns: LogColumns = log_columns(0, 0, self._widest_type)
        self._fetch = fetch
        self._summarize: Summarizer = summarize or (
            lambda event: payload_summary(event.data, event.stream_id)
        )
        self._summaries: dict[int, str] = {}
        self._strips: dict[tuple[object, ...], Strip] = {}
        self.index = LogIndex(head=0)
        self.selected = 0
        self._pages: OrderedDict[int, list[RecordedEvent]] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0
        self._selected_command = ""
        self._span: tuple[int, int, str] | None = None
        self._drawn_looks: dict[int, tuple[object, ...]] = {}
        """Screen line -> the look it was last drawn with (see `_refresh_looks`)."""

    # -- data in

    def set_index(self, index: LogIndex) -> None:
        """Show the rows of `index`; keeps cached pages that are still valid."""
        old = self.index
        if index.filter != old.filter:
            self._generation += 1
            self._pages.clear()
            self._pending.clear()
        elif len(index) != len(old):
            # Appends only add rows at the end: drop the pages that were not full.
            for page_no, rows in list(self._pages.items()):
                if len(rows) < PAGE:
                    del self._pages[page_no]
        self.index = index
        self.virtual_size = Size(0, len(index) + 1)
        self.refresh()

    def select(self, position: int, *, scroll: bool = True) -> None:
        """Highlight the event at `position` (the time cursor) and bring it into view."""
        self.selected = position
        self._selected_command = ""
        row = self.index.index_at_or_before(position)
        event = self._event_at_row(row) if row >= 0 else None
        if event is not None and event.position == position:
            self._selected_command = str(event.metadata.get("command_id", ""))
        if scroll:
            self._scroll_to_row(row)
            self.call_after_refresh(self._scroll_to_row, row)
        self._refresh_looks()

    def mark_span(self, since: int | None, position: int) -> None:
        """Mark the events between the previous cursor and this one (applied or undone)."""
        if since is None or since == position:
            self._span = None
        elif since < position:
            self._span = (since + 1, position, "applied")
        else:
            self._span = (position + 1, since, "undone")
        self._refresh_looks()

    def _refresh_looks(self) -> None:
        """Repaint only the lines whose look changed.

        A step moves the highlight across two or three lines; repainting the whole log
        for it would cost every line's styling again, on every step.
        """
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        width = self.size.width
        regions = [
            Region(0, y, width, 1)
            for y in range(1, height)
            if self._drawn_looks.get(y) != (top, self._width, self._row_look(top + y - 1))
        ]
        if regions:
            self.refresh(*regions)

    def _row_look(self, row: int) -> tuple[object, ...]:
        """What row `row` shows, as a value: rows with equal looks draw the same."""
        if row >= len(self.index):
            return ("end", row == 0, bool(self.index.filter))
        event = self._event_at_row(row)
        if event is None:
            return ("loading", self.index.position_of(row))
        return (event.position, *self._marks(event), self._columns)

    def _marks(self, event: RecordedEvent) -> tuple[str, str]:
        """The row's highlight (cursor, same command, future) and gutter mark."""
        kind = ""
        if event.position == self.selected:
            kind = "log--cursor"
        elif self._selected_command and event.metadata.get("command_id") == self._selected_command:
            kind = "log--same-command"
        elif event.position > self.selected:
            kind = "log--future"
        span = self._span
        gutter = span[2] if span is not None and span[0] <= event.position <= span[1] else ""
        return kind, gutter

    def _scroll_to_row(self, row: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if row < 0:
            target = 0
        elif top <= row < top + height:
            return
        else:
            target = max(0, row - height // 2)
        self.scroll_to(y=target, animate=False, immediate=True)

    @property
    def loaded(self) -> bool:
        """True when every visible row's page has arrived."""
        if self._pending:
            return False
        top = round(self.scroll_y)
        height = max(1, self.scrollable_content_region.height - 1)
        last = min(len(self.index), top + height) - 1
        if last < top:
            return True
        return all(p in self._pages for p in range(top // PAGE, last // PAGE + 1))

    # -- pages

    def _event_at_row(self, row: int) -> RecordedEvent | None:
        page_no, offset = divmod(row, PAGE)
        page = self._pages.get(page_no)
        if page is None:
            self._request(page_no)
            return None
        self._pages.move_to_end(page_no)
        return page[offset] if offset < len(page) else None

    def _request(self, page_no: int) -> None:
        if page_no in self._pending or page_no * PAGE >= len(self.index):
            return
        self._pending.add(page_no)
        self._load_page(self.index, page_no, self._generation)

    @work(thread=True, group="log-pages", exit_on_error=False)
    def _load_page(self, index: LogIndex, page_no: int, generation: int) -> None:
        events = self._fetch(index, page_no * PAGE, PAGE)
        summaries = {e.position: self._summarize(e) for e in events}
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._page_loaded, page_no, generation, events, summaries)

    def _page_loaded(
        self,
        page_no: int,
        generation: int,
        events: list[RecordedEvent],
        summaries: dict[int, str],
    ) -> None:
        self._pending.discard(page_no)
        if generation != self._generation:
            return
        self._pages[page_no] = events
        self._summaries.update(summaries)
        if self._fitted is None and events:
            # The first page read sets the stream and actor columns for good.
            self._fitted = first_page_widths(events)
        while len(self._pages) > MAX_PAGES:
            _, dropped = self._pages.popitem(last=False)
            for event in dropped:
                self._summaries.pop(event.position, None)
        if not self._selected_command:
            self.select(self.selected, scroll=False)
        top = round(self.scroll_y)
        first, last = page_no * PAGE, page_no * PAGE + len(events)
        if first < top + self.scrollable_content_region.height and last > top:
            self.refresh()  # a page off screen (fetched ahead) needs no repaint

    def prefetch(self, position: int) -> None:
        """Start reading the rows around `position`, where the cursor is about to jump."""
        row = max(0, self.index.index_at_or_before(position))
        height = max(1, self.scrollable_content_region.height)
        for page_no in {max(0, row - height) // PAGE, row // PAGE, (row + height) // PAGE}:
            if page_no not in self._pages:
                self._request(page_no)

    # -- drawing

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Style, width and column layout are looked up once per paint, not per line.
        self._base = self.rich_style
        self._width = self.scrollable_content_region.width
        self._columns = log_columns(self._width, self.index.head, self._widest_type, self._fitted)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line 0 is a sticky header; the others are rows from the scroll offset."""
        width = self._width
        base = self._base
        pos_w, time_w, stream_w, type_w, actor_w = self._columns
        if y == 0:
            style = base + self.get_component_rich_style("log--header")
            titles = [
                (" ", None),
                ("pos".rjust(pos_w), None),
                ("time".ljust(time_w), None) if time_w else ("", None),
                ("stream".ljust(stream_w), None),
                ("type".ljust(type_w), None),
                ("actor".ljust(actor_w), None),
                ("payload", None),
            ]
            return self._join(titles, style, width)
        top = round(self.scroll_y)
        row = top + y - 1
        self._drawn_looks[y] = (top, width, self._row_look(row))
        if row >= len(self.index):
            if row == 0:
                empty = "no events match the filter" if self.index.filter else "no events yet"
                style = base + self.get_component_rich_style("log--loading")
                return Strip([Segment(f" {empty}", style)]).extend_cell_length(width, base)
            return Strip.blank(width, base)
        event = self._event_at_row(row)
        if event is None:
            style = base + self.get_component_rich_style("log--loading")
            label = position_text(self.index.position_of(row)).rjust(pos_w)
            return self._join([(" ", None), (label, None), ("  …", None)], style, width)
        kind, gutter = self._marks(event)
        key = (event.position, width, kind, gutter, self._columns)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._row_strip(event, width, kind, gutter)
            if len(self._strips) > 4 * PAGE * 4:
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def _row_strip(self, event: RecordedEvent, width: int, kind: str, gutter: str) -> Strip:
        base = self._base
        row_style = base + self.get_component_rich_style(kind) if kind else base
        pos_w, time_w, stream_w, type_w, actor_w = self._columns

        def part(name: str) -> Style:
            return self.get_component_rich_style(name, partial=True)

        when = time_text(event.recorded_at) if time_w >= 19 else short_time_text(event.recorded_at)
        cells = [
            ("┃" if gutter else " ", part(f"log--{gutter}") if gutter else None),
            (position_text(event.position).rjust(pos_w), part("log--position")),
            (when.ljust(time_w) if time_w else "", part("log--time")),
            (_fit(event.stream_id, stream_w), part("log--stream")),
            (_fit(event.type, type_w), part("log--type")),
            (_fit(event.actor, actor_w), part("log--actor")),
        ]
        # The summary fills the rest of the line, cut between words (money stays whole).
        used = sum(len(text) + (1 if i > 1 else 0) for i, (text, _) in enumerate(cells) if text)
        summary = cut_words(escape(self._summaries.get(event.position, "")), width - used - 1)
        cells.append((summary, part("log--summary")))
        return self._join(cells, row_style, width)

    def _join(self, cells: Sequence[tuple[str, Style | None]], base: Style, width: int) -> Strip:
        segments = []
        for i, (text, style) in enumerate(cells):
            if not text:
                continue
            if i > 1:
                segments.append(Segment(" ", base))
            segments.append(Segment(text, base + style if style is not None else base))
        return Strip(segments).crop_extend(0, width, base)

    # -- input

    def action_navigate(self, delta: int) -> None:
        """Step through the log with the keyboard."""
        self.post_message(self.Navigate(delta))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = round(self.scroll_y) + offset.y - 1
        if 0 <= row < len(self.index):
            self.post_message(self.EventClicked(self.index.position_of(row)))


def _fit(text: str, width: int) -> str:
    """Stored `text`, escaped (`domain.text.escape`), cut or padded to `width`."""
    text = escape(text)
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.ljust(width)
