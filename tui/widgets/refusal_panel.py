"""The Refusals tab: the table of refused commands and the line that counts them.

Frames carry only the latest refusals up to the cursor (`Frame.refusals_total` says how
many there are in all). The count line says how many are shown; moving down past the
last row asks for older ones (`OlderWanted`), so nothing is capped silently.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from domain.cells import grouped_decimal
from domain.projection import Column
from tui.format import position_text
from tui.widgets.projection_table import ProjectionTable


class RefusalTable(ProjectionTable):
    """The refusals, newest first; Enter opens one whole, ↓ at the end loads older ones."""

    BINDINGS = [
        Binding(
            "enter",
            "choose",
            "Details",
            tooltip="The refused command whole: who, when, its fields, the full reason, "
            "the position it was refused at",
        ),
        Binding("down", "cursor(1)", "Row down / older", show=False),
    ]

    class OlderWanted(Message):
        """The user moved past the oldest refusal shown while older ones exist."""

    def __init__(self, name: str, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(name, columns, "refusal", id=id)
        self.empty_text = "no command was refused up to here"
        self.newest_first = True
        self.total = 0
        """How many refusals exist up to the shown position (shown: `row_count`)."""
        self._asked_at = -1
        self._position: int | None = None

    def _decide_key_column(self) -> None:
        # A refusal's key is the store's internal id: never a column (Enter shows it all).
        self._show_key = False
        self._key_columns = ()
        self._fitted = None

    def keep_newest_in_view(self, position: int) -> None:
        """After a move in time, select the newest refusal at `position` and show the top
        (a log read newest first); loading older ones at the same position keeps the
        cursor where it is."""
        if position == self._position:
            return
        self._position = position
        self._asked_at = -1
        if self.row_count:
            self.cursor = 0
            self.scroll_to(y=0, animate=False)

    def action_cursor(self, delta: int) -> None:
        at_end = self.row_count and self.cursor >= self.row_count - 1
        super().action_cursor(delta)
        # Asked once per page: the next frame brings the older ones.
        wanted = delta > 0 and at_end and self.row_count < self.total
        if wanted and self._asked_at != self.row_count:
            self._asked_at = self.row_count
            self.post_message(self.OlderWanted())


def count_line(shown: int, total: int, position: int) -> str:
    """`500 of 7,012 refusals up to #99,800, newest first · ↓ past the last loads older`."""
    where = f"up to {position_text(position)}" if position else "before the first event"
    if total == 0:
        return f"no refusals {where}"
    noun = "refusal" if total == 1 else "refusals"
    line = f"{grouped_decimal(shown)} of {grouped_decimal(total)} {noun} {where}, newest first"
    if shown < total:
        line += " · ↓ past the last loads older"
    return line + " · Enter opens one"


class RefusalCount(Static):
    """One line above the refusal table: how many exist and how many are shown."""

    _line = ""

    def show_count(self, shown: int, total: int, position: int) -> None:
        """Say how many refusals exist up to `position` and how many are shown.

        Called on every frame (each scrub key): the line's box never changes (one row,
        the panel's width), so it is repainted without a layout of the whole screen,
        which cost about half the CPU of a key at 200k events.
        """
        line = count_line(shown, total, position)
        if line != self._line:
            self._line = line
            self.update(line, layout=False)
