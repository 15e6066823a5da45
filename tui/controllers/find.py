"""Finding text in the state at the cursor (`ctrl+f`), and going to the cell found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.services.state_search import StateMatch

if TYPE_CHECKING:
    from tui.screens.find import FindScreen
    from tui.screens.main import MainScreen


class FindInState:
    """Opens the find dialog on the frame the panels show; a chosen match is revealed."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.query = ""
        """The last text searched for: the dialog opens with it again."""
        self._dialog: FindScreen | None = None

    def open(self) -> None:
        """Search the state shown now (the frame at the cursor)."""
        from tui.screens.find import FindScreen

        screen = self.screen
        frame = screen.frame
        if frame is None:
            screen.notify("The panels are still loading; try again in a moment.", timeout=3)
            return
        screen.autoplay.pause()
        dialog = FindScreen(screen.session.projections, frame.rows, frame.position, self.query)
        screen.app.push_screen(dialog, self.reveal)
        self._dialog = dialog

    def reveal(self, match: StateMatch | None) -> None:
        """Show `match`'s panel with its cursor on the matching cell."""
        from tui.widgets.cell_table import CellTable
        from tui.widgets.projection_panels import ProjectionPanels

        dialog, self._dialog = self._dialog, None
        if dialog is not None and dialog.result is not None:
            self.query = dialog.result.query
        if match is None:
            return
        panels = self.screen.query_one(ProjectionPanels)
        panels.select_tab(panels.names.index(match.projection))
        table = self.screen.query_one(f"#table-{match.projection}", CellTable)
        table.call_after_refresh(table.reveal, match.key, match.field)
