"""The eventscope Textual app: `run_app(workspace)` is what the CLI calls."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from domain.errors import DomainError
from domain.text import escape
from tui.bootstrap import app_session
from tui.crash import CRASH_EXIT_CODE
from tui.palette import EventscopeCommands
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.services.frames import Frame
from tui.session import Session
from tui.themes import DEFAULT_THEME, install_theme
from tui.widgets.cell_table import CellTable
from tui.widgets.event_log import EventLog
from tui.widgets.inspector import EventInspector
from tui.widgets.projection_table import ProjectionTable
from tui.widgets.refusal_panel import RefusalTable

if TYPE_CHECKING:
    from tui.bootstrap import Workspace


class EventscopeApp(App[None]):
    """Audit and time-travel through an event store."""

    CSS_PATH = "app.tcss"
    TITLE = "eventscope"
    COMMANDS = App.COMMANDS | {EventscopeCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+p", "command_palette", "Palette", show=False),
    ]

    def __init__(
        self,
        session: Session,
        *,
        watch: bool = True,
        verify: bool = True,
        cursor_blink: bool = True,
        first_frame: Frame | None = None,
        theme: str = DEFAULT_THEME,
    ) -> None:
        """`watch` follows other writers; `verify` checks the chain in the background;
        `first_frame` is the present, when it was read before the app started; `theme` is a
        `--theme` name (tui/themes.py)."""
        super().__init__()
        install_theme(self, theme)
        self.session = session
        self.follow_writers = watch
        self.verify = verify
        self.cursor_blink = cursor_blink
        self.first_frame = first_frame

        self.crash_report: str | None = None
        """The one line to print after an unexpected error ended the app (see tui/crash.py)."""

    def _handle_exception(self, error: Exception) -> None:
        # Textual would print a traceback with local variables (stored, untrusted text
        # among them) on exit: keep it in a crash log instead, and exit non-zero.
        from tui.crash import report_crash

        super()._handle_exception(error)
        self._exit_renderables.clear()
        self.crash_report = report_crash(error)

    def on_mount(self) -> None:
        self.push_screen(
            MainScreen(
                self.session,
                watch=self.follow_writers,
                verify=self.verify,
                first_frame=self.first_frame,
            )
        )

    @property
    def main(self) -> MainScreen:
        """The main screen (under any open dialog)."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the main screen is not open")

    def action_help(self) -> None:
        """List the keys of the screen on top: the main screen's, or a dialog's own."""
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        if isinstance(screen, MainScreen):
            sections: list[tuple[str, Iterable[BindingType]]] = [
                # Of keys bound twice (c, space), the one that applies now.
                ("Time travel and panels", [b for b in MainScreen.BINDINGS if _applies(screen, b)]),
                ("Projection panel", [*CellTable.BINDINGS, *ProjectionTable.BINDINGS]),
                ("Refusals panel", RefusalTable.BINDINGS),
                ("Event log", EventLog.BINDINGS),
                ("Inspector", EventInspector.BINDINGS),
            ]
        else:
            name = re.sub(r"(?<!^)(?=[A-Z])", " ", type(screen).__name__.removesuffix("Screen"))
            sections = [(name.capitalize(), screen.BINDINGS)]
        self.push_screen(HelpScreen([*sections, ("Everywhere", self.BINDINGS)]))

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Save a screenshot into the current folder (else the temporary folder).

        Textual saves into ~/Downloads, which a server or a container often lacks; the
        notice that follows names the file either way.
        """
        if path is None:
            path = os.getcwd() if os.access(os.getcwd(), os.W_OK) else tempfile.gettempdir()
        return super().deliver_screenshot(filename, path, time_format)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast, escaped and never markup: they quote stored text (a chain report
        names a stream id, an error echoes input). Screens' `notify` comes here too."""
        super().notify(
            escape(message), title=escape(title), severity=severity, timeout=timeout, markup=False
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            # Textual's own key panel docks beside the screen and squeezes it; "Keys"
            # here opens the app's help (`?`), the one list of keys with a filter.
            if command.title == "Keys":
                yield SystemCommand(
                    "Keys",
                    "The keys of this screen, with a filter as you type (?)",
                    self.action_help,
                )
            else:
                yield command
        yield SystemCommand(
            "Toggle dark/light", "Switch between a dark and a light theme", self._toggle_theme
        )

    def _toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def run_app(
    workspace: Workspace,
    *,
    size: tuple[int, int] | None = None,
    watch: bool = True,
    verify: bool = True,
    theme: str = DEFAULT_THEME,
    projector_delay: int = 0,
) -> int:
    """Open the app on `workspace` and block until the user quits.

    Returns the exit code: 0, or `tui.crash.CRASH_EXIT_CODE` after an unexpected error
    (the line naming the crash log is then printed on stderr).
    """
    app = open_app(
        workspace, watch=watch, verify=verify, theme=theme, projector_delay=projector_delay
    )
    app.run(size=size)
    if app.crash_report is not None:
        print(app.crash_report, file=sys.stderr)
        return CRASH_EXIT_CODE
    return app.return_code or 0


def open_app(
    workspace: Workspace,
    *,
    watch: bool = True,
    verify: bool = True,
    theme: str = DEFAULT_THEME,
    projector_delay: int = 0,
) -> EventscopeApp:
    """The app on `workspace`, with the present read before it starts.

    Reading the read models while Textual starts would share one interpreter lock
    with it and take several times as long (at 1M events ~100 ms alone, 400-700 ms
    alongside): read first, then start. `projector_delay` (ms) holds the app's
    projector back after new events (`--projector-delay`).
    """
    session = app_session(workspace)
    if session.read_side is not None:
        session.read_side.delay.set(projector_delay)  # `--projector-delay`: the fold only
    try:
        first: Frame | None = session.frames.live_frame()
    except DomainError:
        first = None  # the app's first frame tries again, and says why
    return EventscopeApp(session, watch=watch, verify=verify, first_frame=first, theme=theme)


def _applies(screen: MainScreen, item: BindingType) -> bool:
    """Whether the screen would run this binding now (`check_action` says so)."""
    binding = item if isinstance(item, Binding) else Binding(*item)
    return screen.check_action(binding.action, ()) is not False
