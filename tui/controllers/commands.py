"""Running a command from the main screen: the warning in the past, the form, the outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.envelope import AppendResult
from tui.format import position_text

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


class CommandFlow:
    """Opens the command form (asking first when the cursor is in the past)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

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
        from tui.screens.command_form import CommandFormScreen

        screen = self.screen
        screen.app.push_screen(CommandFormScreen(screen.session), self.finished)

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
