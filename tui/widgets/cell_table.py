"""A projection table with a cell cursor: Enter on a field's cell asks for its blame.

`←`/`→` move through time everywhere in the app, so the column moves with `,` and `.`
(or `<` and `>`), or with a click on the cell. No column chosen (the start), or the
row key's column, keeps Enter as it always was: the lineage of the whole row. On any
other column, Enter asks for the field's blame: the events that changed that value.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip

from domain.projection import Row
from tui.widgets.column_fit import GAP
from tui.widgets.projection_table import LINEAGE_KEY, ProjectionTable

CELL_CURSOR = Style(reverse=True, bold=True)

CELL_KEYS = Binding.Group("Cell", compact=True)
"""`,` and `.` share one footer label: ", . Cell"."""


class CellTable(ProjectionTable):
    """A `ProjectionTable` whose cursor can also stand on one cell of the row."""

    BINDINGS = [
        Binding(
            "comma,less_than_sign",
            "column(-1)",
            "Previous column (enter on a field: its blame)",
            group=CELL_KEYS,
        ),
        Binding(
            "full_stop,greater_than_sign",
            "column(1)",
            "Next column (enter on a field: its blame)",
            group=CELL_KEYS,
        ),
        # Enter is bound twice: `choose` (the row's lineage) while no field's cell is
        # chosen, `blame` once one is (check_action enables one of them), so the footer
        # says what Enter does here: "⏎ Lineage" or "⏎ Blame". Both are listed here: a
        # subclass's binding of a key replaces its base classes' bindings of that key.
        LINEAGE_KEY,
        Binding(
            "enter",
            "blame",
            "Blame",
            tooltip="On a field's cell (chosen with , or .): its blame, every event "
            "that changed that value",
        ),
    ]

    class CellChosen(Message):
        """The user asked for the blame of one field of one row (enter on a cell)."""

        def __init__(self, projection: str, key: str, field: str, row: Row | None = None) -> None:
            super().__init__()
            self.projection = projection
            self.key = key
            self.field = field
            self.row = row

    column: int | None = None
    """The chosen cell's index in the row's cells (None: the whole row)."""

    _drawing = -1

    # -- which cell

    def _shown_cells(self) -> list[int]:
        """The indices of the cells drawn at the current width, left to right."""
        self._settle_order()
        return [i for i, _ in self._fit(self.scrollable_content_region.width)]

    def field_at(self, index: int | None) -> str | None:
        """The field shown in cell `index`; None for the row key (shown or made of columns)."""
        if index is None:
            return None
        if self._show_key:
            return None if index == 0 else self.columns[index - 1].name
        if index in self._key_columns or not 0 <= index < len(self.columns):
            return None
        return self.columns[index].name

    @property
    def chosen_field(self) -> str | None:
        """The field under the cell cursor, if one is chosen and drawn (else None)."""
        if self.column is None or self.column not in self._shown_cells():
            return None
        return self.field_at(self.column)

    def action_column(self, delta: int) -> None:
        """Move the cell cursor one drawn column left or right."""
        shown = self._shown_cells()
        if not shown:
            return
        if self.column not in shown:
            self.column = shown[0] if delta > 0 else shown[-1]
        else:
            at = shown.index(self.column) + delta
            self.column = shown[max(0, min(len(shown) - 1, at))]
        self._column_moved()

    def reveal(self, key: str, field: str | None = None) -> None:
        """Put the cursor on row `key` (and on `field`'s cell, when given and drawn)."""
        self._settle_order()
        if key not in self._rows:
            return
        self.cursor = self._order.index(key)
        if field is not None:
            offset = 1 if self._show_key else 0
            names = [c.name for c in self.columns]
            if field in names:
                self.column = names.index(field) + offset
        self._column_moved()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose":
            return self.chosen_field is None
        if action == "blame":
            return self.chosen_field is not None
        return True

    def action_blame(self) -> None:
        """Enter on a field's cell: its blame."""
        self.action_choose()

    def _column_moved(self) -> None:
        """The cell cursor moved: Enter may now mean blame instead of lineage (or back)."""
        self.refresh()
        self.refresh_bindings()

    def action_choose(self) -> None:
        """Enter: the blame of the chosen field, or the lineage of the row."""
        key = self.selected_key
        field = self.chosen_field
        if key is not None and field is not None:
            self.post_message(self.CellChosen(self.projection, key, field, self._rows.get(key)))
        else:
            super().action_choose()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            x = offset.x + round(self.scroll_x)
            left = 1
            for i, width in self._fit(self.scrollable_content_region.width):
                if left <= x < left + width + GAP:
                    self.column = i
                    break
                left += width + GAP
            self.refresh_bindings()
        super().on_click(event)

    # -- drawing: the chosen cell of the cursor row stands out

    def _line_look(self, y: int, index: int) -> tuple[object, ...]:
        look = super()._line_look(y, index)
        return (*look, self.column) if y and index == self.cursor else look

    def _draw_line(self, y: int, index: int) -> Strip:
        self._drawing = index if y else -1
        try:
            return super()._draw_line(y, index)
        finally:
            self._drawing = -1

    def _line(
        self,
        cells: Sequence[str],
        base: Style,
        cell_styles: Sequence[Style | None],
        *,
        header: bool = False,
    ) -> Strip:
        column = self.column
        if not header and column is not None and self._drawing == self.cursor and self.has_focus:
            styles = list(cell_styles)
            if 0 <= column < len(styles):
                styles[column] = (styles[column] or Style()) + CELL_CURSOR
                cell_styles = styles
        return super()._line(cells, base, cell_styles, header=header)
