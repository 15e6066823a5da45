"""Running a command from the main screen: the warning in the past, the form, the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from domain.envelope import AppendResult
from domain.projection import Column, Row
from tui.format import position_text
from tui.widgets.column_fit import key_columns

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


def identity_fields(columns: Sequence[Column], key: str, row: Row) -> dict[str, str]:
    """The fields of `row` that make up its `key` (per `key_columns`), as text."""
    found = key_columns(key, row, columns) or ()
    return {
        columns[i].name: str(row[columns[i].name])
        for i in found
        if row.get(columns[i].name) not in (None, "")
    }


class CommandFlow:
    """Opens the command form (asking first when the cursor is in the past)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.last: str | None = None
        """The command chosen when a form last closed: the next form opens on it."""

    def open(self) -> None:
        """Open the form at once when live; in the past, offer to return to live first."""
        screen = self.screen
        if screen.session.read_only:
            screen.notify("The database is open read-only.", severity="warning")
            return
        screen.autoplay.pause()
        if screen.live:
            self._open_form()
            return
        from tui.screens.confirm import ConfirmScreen

        screen.app.push_screen(
            ConfirmScreen(
                "You are looking at the past",
                f"You are at {position_text(screen.target)}; commands always apply to the "
                f"present (#{screen.head:,}). Return to live first?",
                [("live", "Return to live", "primary"), ("stay", "Stay here", "default")],
            ),
            self._confirmed,
        )

    def unavailable(self) -> None:
        """`c` on a read-only database: say why no command can run."""
        self.screen.notify(
            "Commands are unavailable: the database is open read-only (--read-only). "
            "Open it without --read-only to run commands.",
            severity="warning",
        )

    def _confirmed(self, choice: str | None) -> None:
        if choice == "live":
            self.screen.action_live()
            self._open_form()
        elif choice == "stay":
            self._open_form()

    def _open_form(self) -> None:
        self.open_form(self.last)

    def open_form(self, command: str | None) -> None:
        """Open the form on `command` (None: the first), prefilled from the selected row."""
        from tui.screens.command_form import CommandFormScreen

        screen = self.screen
        form = CommandFormScreen(screen.session, command, self.prefill())

        def closed(result: AppendResult | None) -> None:
            self.last = form.command.type_name
            self.finished(result)

        screen.app.push_screen(form, closed)

    def prefill(self) -> dict[str, str]:
        """The selected row's identity: the values of the columns its key is made of
        (`account_id`, or `sku` and `warehouse`), by field name. A command field of the
        same name starts with that value; the domain's description says which columns
        those are, so no domain is named here."""
        from tui.widgets.projection_panels import ProjectionPanels

        screen = self.screen
        table = screen.query_one(ProjectionPanels).active_table
        frame = screen.frame
        if table is None or frame is None or table.projection not in frame.rows:
            return {}
        key = table.selected_key
        row = frame.rows[table.projection].get(key) if key is not None else None
        if key is None or row is None:
            return {}
        return identity_fields(table.columns, key, row)

    def finished(self, result: AppendResult | None) -> None:
        """Say what a command recorded (None: the form was closed), and await it live."""
        if result is None:
            return
        screen = self.screen
        if result.duplicate:
            screen.notify("Already recorded earlier: nothing new appended.", timeout=4)
            return
        first, last = result.positions[0], result.positions[-1]
        where = position_text(first) if first == last else f"{position_text(first)} to #{last:,}"
        screen.notify(f"Recorded {len(result.positions)} event(s) at {where}", timeout=4)
        screen.live_watch.recorded(last)
