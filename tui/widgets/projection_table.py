"""One projection's rows as a table drawn with the line API.

Only the visible lines are rendered, cells are formatted once per row version, and
the columns come from the projection's `Column` descriptions (numeric ones are
right-aligned), so the table knows nothing about any domain.

Columns fit the width they are given (`tui.widgets.column_fit`); a number is never
cut. The whole row, every cell in full, is one key away: `v`.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from domain.projection import KEY_PRIORITY, Column, ColumnKind, Row
from domain.text import escape
from tui.services.frames import natural_key
from tui.services.types import RowChanges, Rows
from tui.widgets.column_fit import GAP, cut, fit_columns, key_columns, narrowest

LINEAGE_HELP = "The selected row's lineage: the events that changed it, with command and actor"
LINEAGE_KEY = Binding("enter", "choose", "Lineage", tooltip=LINEAGE_HELP)
"""Enter on a row: its lineage (a subclass that rebinds enter lists this one too)."""


class ProjectionTable(ScrollView, can_focus=True):
    """A read-only, virtual table of one projection's rows, with changes highlighted."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Row up", show=False),
        Binding("down", "cursor(1)", "Row down", show=False),
        LINEAGE_KEY,
        Binding("v", "view_row", "Whole row", show=False),
    ]

    COMPONENT_CLASSES = {
        "table--header",
        "table--cursor",
        "table--changed",
        "table--changed-cell",
        "table--added",
        "table--empty",
    }

    cursor: reactive[int] = reactive(0, always_update=True)
    """The index of the selected row, in display order."""

    class RowChosen(Message):
        """The user asked for the history of one row (enter or double click)."""

        def __init__(self, projection: str, key: str, row: Row | None = None) -> None:
            super().__init__()
            self.projection = projection
            self.key = key
            self.row = row

    def __init__(
        self,
        projection: str,
        columns: Sequence[Column],
        key_title: str,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._base = Style()
        self.projection = projection
        self.columns = list(columns)
        self.key_title = key_title
        self.empty_text = "no rows yet"
        self.newest_first = False
        self._shown = False
        """Sort keys in descending order (for logs such as the refusals)."""
        self._rows: Rows = {}
        self._order: list[str] = []
        self._changes = RowChanges()
        self._cells: dict[str, tuple[Row, tuple[str, ...]]] = {}
        self._widths: list[int] = []
        self._show_key: bool | None = None
        self._key_columns: tuple[int, ...] = ()
        self._fitted: tuple[tuple[int, tuple[int, ...]], list[tuple[int, int]]] | None = None
        self._width = 0
        self._size_stale = False
        self._order_stale = False
        self._drawn: dict[tuple[object, ...], Strip] = {}
        """Lines as last drawn, by row and look, for the paint settings in `_drawn_for`."""
        self._drawn_for: tuple[object, ...] | None = None
        self._drawn_looks: dict[int, tuple[object, ...]] = {}
        """Screen line -> the look it was last drawn with (see `_refresh_looks`)."""

    # -- data in

    def show(
        self,
        rows: Mapping[str, Row],
        changes: RowChanges,
        *,
        follow: bool = True,
        incremental: bool = False,
    ) -> None:
        """Display `rows`, highlighting `changes`; scroll to a change when none is visible.

        `incremental` promises that `changes` lists every difference from the rows shown
        last, so only those rows are looked at (a step through a million events touches
        a few rows of thousands).
        """
        if not self.region:
            # On a hidden tab: keep the rows, and put them in order when the tab is shown.
            self._rows = rows if isinstance(rows, dict) else dict(rows)
            self._changes = changes
            self._order_stale = self._size_stale = True
            return
        incremental = incremental and self._shown and not self._order_stale
        selected = self.selected_key
        self._shown = True
        if incremental:
            self._reorder(changes)
            # A change list that missed a key would leave a row drawn that no longer
            # exists (or hide one that does): fall back to a full sort.
            self._order_stale = len(self._order) != len(rows)
        elif rows.keys() != self._rows.keys():
            self._order_stale = True
        self._rows = rows if isinstance(rows, dict) else dict(rows)
        self._settle_order()
        self._changes = changes
        if not self._widths or len(self._widths) != len(self._titles):
            self._widths = [len(t) for t in self._titles]
        # Cells are formatted when drawn (visible rows only): a jump changes thousands of
        # rows, and only the rows on screen are drawn.
        self._size_to_columns()
        cursor = self.cursor
        if selected is not None and selected in self._rows and len(self._order) < 5000:
            cursor = self._order.index(selected)
        cursor = min(cursor, max(0, len(self._order) - 1))
        if cursor != self.cursor:
            self.cursor = cursor
        if follow and changes:
            self._follow_changes()
        self._refresh_looks()

    def _refresh_looks(self) -> None:
        """Repaint only the visible lines whose look changed (a step changes a few rows).

        A table on a hidden tab only notes that it must repaint when shown: it draws
        nothing until then, and asking for a repaint now would make the screen look for
        it again (hidden widgets are not in its map).
        """
        if not self.region:
            self._size_stale = True
            return
        if self._drawn_for is None:
            self.refresh()
            return
        self._format_visible()
        top = round(self.scroll_y)
        width = self.size.width
        regions = [
            Region(0, y, width, 1)
            for y in range(0, self.scrollable_content_region.height)
            if self._drawn_looks.get(y) != (top, self._line_look(y, top + y - 1))
        ]
        if regions:
            self.refresh(*regions)

    def _line_look(self, y: int, index: int) -> tuple[object, ...]:
        """What line `y` (row `index`) shows, as a value: equal looks draw the same."""
        if y == 0 or not self._order or index >= len(self._order):
            return (y == 0, bool(self._order), self._shown, tuple(self._widths))
        key = self._order[index]
        changes = self._changes
        look: object = (
            "added" if key in changes.added else changes.changed.get(key) if changes else None
        )
        return (key, self._cells_of(key), look, index == self.cursor, tuple(self._widths))

    def _decide_key_column(self) -> None:
        """Show the row key as a column only when the columns do not already show it."""
        key, row = next(iter(self._rows.items()))
        shown_by = key_columns(key, row, self.columns)
        self._show_key = shown_by is None
        self._key_columns = shown_by or ()
        self._fitted = None

    @property
    def _titles(self) -> list[str]:
        titles = [c.title for c in self.columns]
        return [self.key_title.capitalize(), *titles] if self._show_key else titles

    def _settle_order(self) -> None:
        """Put the rows in display order if they changed while the order was not kept.

        Rows given to a hidden table are only stored; whatever reads the order next (a
        paint, a key, `show`) settles it first, so the order never names a row that is
        gone (the refusals panel crashed on exactly that).
        """
        if self._show_key is None and self._rows:
            self._decide_key_column()
        if not self._order_stale:
            return
        self._order_stale = False
        self._order = sorted(self._rows, key=natural_key, reverse=self.newest_first)
        for key in [k for k in self._cells if k not in self._rows]:
            del self._cells[key]

    def _reorder(self, changes: RowChanges) -> None:
        """Keep the display order up to date with the keys `changes` adds and removes."""
        if not (changes.added or changes.removed):
            return
        for key in changes.removed:
            self._cells.pop(key, None)
        if self.newest_first or len(changes.added) + len(changes.removed) > 64:
            keys = (set(self._order) - changes.removed) | changes.added
            self._order = sorted(keys, key=natural_key, reverse=self.newest_first)
            return
        removed = changes.removed
        if removed:
            self._order = [k for k in self._order if k not in removed]
        for key in changes.added:
            bisect.insort(self._order, key, key=natural_key)

    def _cells_of(self, key: str) -> tuple[str, ...]:
        """The formatted cells of row `key`, formatted again only when the row changed.

        Formatting widens columns that are too narrow for the new text (`_fit` then
        decides how much of that width the table has room for).
        """
        row = self._rows[key]
        cached = self._cells.get(key)
        if cached is not None and (cached[0] is row or cached[0] == row):
            return cached[1]
        cells = tuple(c.format(row) for c in self.columns)
        if self._show_key:
            cells = (escape(key), *cells)  # cells are escaped by `Column.format`
        self._cells[key] = (row, cells)
        widths = self._widths
        for i, cell in enumerate(cells):
            width = cell_len(cell)
            if width > widths[i]:
                widths[i] = width
        return cells

    def _format_visible(self) -> None:
        """Format the rows about to be drawn, so the columns are as wide as they will be."""
        self._settle_order()
        if not self._order:
            return
        if not self._widths or len(self._widths) != len(self._titles):
            self._widths = [len(t) for t in self._titles]
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        before = tuple(self._widths)
        for key in self._order[top : top + height]:
            self._cells_of(key)
        if tuple(self._widths) != before:
            self.call_after_refresh(self._size_to_columns)

    def _size_to_columns(self) -> None:
        """Make the scrollable width the drawn width: scrolling never shows empty space."""
        self._size_stale = False
        self.virtual_size = Size(self._drawn_width(), len(self._order) + 1)
        if self.scroll_x > self.max_scroll_x:
            self.scroll_to(x=self.max_scroll_x, animate=False)

    def _drawn_width(self) -> int:
        fitted = self._fit(self.scrollable_content_region.width)
        return 1 + sum(w for _, w in fitted) + GAP * (len(fitted) - 1)

    def on_resize(self) -> None:
        self._size_to_columns()

    def on_show(self) -> None:
        if self._order_stale:
            self.show(self._rows, self._changes, follow=False)
        if self._size_stale:
            self._size_to_columns()
            self.refresh()

    def _follow_changes(self) -> None:
        touched = [k for k in (*self._changes.added, *self._changes.changed) if k in self._rows]
        if not touched:
            return
        height = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        visible = set(self._order[top : top + height])
        if any(k in visible for k in touched):
            return
        pick = max if self.newest_first else min
        first = self._order.index(pick(touched, key=natural_key))
        self.scroll_to(y=max(0, first - height // 2), animate=False)

    # -- reading

    @property
    def row_count(self) -> int:
        self._settle_order()
        return len(self._order)

    @property
    def selected_key(self) -> str | None:
        """The key of the selected row, if there are rows."""
        self._settle_order()
        if 0 <= self.cursor < len(self._order):
            return self._order[self.cursor]
        return None

    # -- drawing

    def _numeric(self, index: int) -> bool:
        return self._kind(index) in ("int", "money")

    def _kind(self, index: int) -> ColumnKind | None:
        """The kind of the cell at `index` (None for the row key)."""
        if self._show_key:
            return None if index == 0 else self.columns[index - 1].kind
        return self.columns[index].kind

    def _rank(self, index: int) -> int:
        if self._show_key:
            if index == 0:
                return KEY_PRIORITY
            index -= 1
        return KEY_PRIORITY if index in self._key_columns else self.columns[index].rank

    def _fit(self, available: int) -> list[tuple[int, int]]:
        """The (cell index, width) of the columns drawn in `available` cells."""
        key = (available, tuple(self._widths))
        if self._fitted is not None and self._fitted[0] == key:
            return self._fitted[1]
        count = len(self._widths)
        fitted = fit_columns(
            self._widths,
            [narrowest(self._kind(i), self._widths[i]) for i in range(count)],
            [self._rank(i) for i in range(count)],
            available,
        )
        self._fitted = (key, fitted)
        return fitted

    @property
    def shown_titles(self) -> list[str]:
        """The titles of the columns drawn at the current width."""
        titles = self._titles
        return [titles[i] for i, _ in self._fit(self.scrollable_content_region.width)]

    def _line(
        self,
        cells: Sequence[str],
        base: Style,
        cell_styles: Sequence[Style | None],
        *,
        header: bool = False,
    ) -> Strip:
        segments = []
        for n, (i, width) in enumerate(self._fit(self._width)):
            kind = self._kind(i)
            text = cut(cells[i], width, "text" if header and kind in ("time", "date") else kind)
            padding = " " * (width - cell_len(text))
            text = padding + text if self._numeric(i) else text + padding
            style = cell_styles[i]
            segments.append(Segment(" " * (1 if n == 0 else GAP), base))
            segments.append(Segment(text, base + style if style is not None else base))
        return Strip(segments)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Look the paint settings up once per paint, not once per line; a line drawn
        # with the same settings, row version and highlight is reused as it is.
        base = self.rich_style
        width = self.scrollable_content_region.width
        self._format_visible()
        if self.virtual_size.width != self._drawn_width():
            # The room changed under the table (a scroll bar came or went).
            self.call_after_refresh(self._size_to_columns)
        drawn_for = (base, width, round(self.scroll_x), self.has_focus, tuple(self._widths))
        if drawn_for != self._drawn_for or len(self._drawn) > 4000:
            self._drawn_for = drawn_for
            self._drawn.clear()
        self._base = base
        self._width = width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line 0 is the sticky header; the others are rows from the scroll offset."""
        top = round(self.scroll_y)
        index = top + y - 1
        drawn_key = self._line_look(y, index)
        self._drawn_looks[y] = (top, drawn_key)
        if y == 0 or not self._order or index >= len(self._order):
            return self._draw_line(y, index)
        strip = self._drawn.get(drawn_key)
        if strip is None:
            strip = self._draw_line(y, index)
            self._drawn[drawn_key] = strip
        return strip

    def _draw_line(self, y: int, index: int) -> Strip:
        width = self._width
        scroll_x = round(self.scroll_x)
        base = self._base
        if y == 0:
            style = self.get_component_rich_style("table--header")
            titles = self._titles
            strip = self._line(titles, base + style, [None] * len(titles), header=True)
            return strip.crop_extend(scroll_x, scroll_x + width, base + style)
        if not self._order:
            if y == 1:
                style = self.get_component_rich_style("table--empty")
                text = self.empty_text if self._shown else "replaying…"
                return Strip([Segment(f" {text}", base + style)]).extend_cell_length(width, base)
            return Strip.blank(width, base)
        if index >= len(self._order):
            return Strip.blank(width, base)
        key = self._order[index]
        cells = self._cells_of(key)
        row_style = base
        cell_styles: list[Style | None] = [None] * len(cells)
        changes = self._changes
        if key in changes.added:
            row_style = base + self.get_component_rich_style("table--added")
        elif key in changes.changed:
            row_style = base + self.get_component_rich_style("table--changed")
            changed = changes.changed[key]
            cell_style = self.get_component_rich_style("table--changed-cell", partial=True)
            offset = 1 if self._show_key else 0
            for i, column in enumerate(self.columns):
                if column.name in changed:
                    cell_styles[i + offset] = cell_style
        if index == self.cursor and self.has_focus:
            row_style = row_style + self.get_component_rich_style("table--cursor")
        elif index == self.cursor:
            row_style = row_style + Style(underline=True)
        strip = self._line(cells, row_style, cell_styles)
        return strip.crop_extend(scroll_x, scroll_x + width, row_style)

    # -- input

    def watch_cursor(self, cursor: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False)
        elif cursor >= top + height:
            self.scroll_to(y=cursor - height + 1, animate=False)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        """Move the selection up or down."""
        self._settle_order()
        if self._order:
            self.cursor = max(0, min(len(self._order) - 1, self.cursor + delta))

    def row_detail(self) -> str | None:
        """Every cell of the selected row in full: `Title  value · Title  value …`."""
        key = self.selected_key
        if key is None:
            return None
        cells = self._cells_of(key)
        return " · ".join(f"{t}  {c}" for t, c in zip(self._titles, cells, strict=True) if c)

    def action_view_row(self) -> None:
        """Show the selected row whole: what a narrow column cut or hid."""
        detail = self.row_detail()
        if detail is not None:
            self.notify(detail, title="Whole row", timeout=10, markup=False)

    def action_choose(self) -> None:
        """Ask for the lineage of the selected row."""
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowChosen(self.projection, key, self._rows.get(key)))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = round(self.scroll_y) + offset.y - 1
        if offset.y >= 1 and 0 <= row < len(self._order):
            self.cursor = row
            if event.chain >= 2:
                self.action_choose()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
