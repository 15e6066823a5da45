"""Enter on a dialog's table, said in its footer.

A focused `DataTable` binds enter itself, hidden, so the footer of a dialog whose table
has focus never said what enter does there. A priority binding of the dialog's own
comes first, shows in the footer ("⏎ Go to event") and selects the table's row, which
posts the `RowSelected` the dialog already handles (a double click posts it too).
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable, Input


def row_enter(description: str) -> Binding:
    """The dialog's enter binding, shown in its footer as `description`."""
    return Binding("enter", "select_row", description, priority=True)


class SelectsRows:
    """A dialog mixin: `select_row` selects the focused table's row (as enter would)."""

    async def action_select_row(self) -> None:
        """Select the row under the focused table's cursor; in a field, submit it (what
        enter did there before this binding took the key first)."""
        focused = getattr(self, "focused", None)
        if isinstance(focused, DataTable) and focused.row_count:
            focused.action_select_cursor()
        elif isinstance(focused, Input):
            await focused.action_submit()
