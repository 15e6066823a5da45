"""The projection panels: one tab per projection, plus the refusals at the cursor."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane

from domain.projection import Column, Projection
from tui.services.types import REFUSALS, Frame
from tui.widgets.cell_table import CellTable
from tui.widgets.projection_table import ProjectionTable

REFUSAL_COLUMNS = (
    Column("recorded_at", "Time", "time", lambda v, _: str(v or "")[:19].replace("T", " ")),
    Column("actor", "Actor"),
    Column("command_type", "Command"),
    Column("code", "Code", "status"),
    Column("reason", "Reason"),
    Column("at_position", "At", "int", lambda v, _: f"#{v:,}" if v else ""),
)


class ProjectionPanels(Vertical):
    """Tabs of projection tables; shows one `Frame` at a time."""

    def __init__(self, projections: Sequence[Projection], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.projections = list(projections)
        self._changed: dict[str, bool] = {}
        self._shown_position: int | None = None
        self._tables: dict[str, ProjectionTable] = {}

    def compose(self) -> ComposeResult:
        with TabbedContent(id="panel-tabs"):
            for projection in self.projections:
                with TabPane(projection.title, id=f"pane-{projection.name}"):
                    yield CellTable(
                        projection.name,
                        projection.columns,
                        projection.key_title,
                        id=f"table-{projection.name}",
                    )
            with TabPane("Refusals", id=f"pane-{REFUSALS}"):
                table = ProjectionTable(
                    REFUSALS, REFUSAL_COLUMNS, "refusal", id=f"table-{REFUSALS}"
                )
                table.empty_text = "no command was refused up to here"
                table.newest_first = True
                yield table

    @property
    def names(self) -> list[str]:
        """Projection names in tab order (refusals last)."""
        return [p.name for p in self.projections] + [REFUSALS]

    @property
    def active_table(self) -> ProjectionTable | None:
        """The table on the visible tab."""
        pane = self.query_one(TabbedContent).active_pane
        if pane is None:
            return None
        return pane.query_one(ProjectionTable)

    def show_frame(self, frame: Frame, *, follow: bool = True) -> None:
        """Draw every table at `frame`, and mark the tabs whose rows changed.

        Tab labels stay fixed (relabelling a tab re-lays out the tab bar); a changed
        projection's tab gets the `-changed` class instead, which only restyles it.
        """
        tabs = self.query_one(TabbedContent)
        # The frame's changes are measured from the frame shown last: the tables then
        # need to look at the changed rows only.
        incremental = frame.since is not None and frame.since == self._shown_position
        self._shown_position = frame.position
        for name in self.names:
            table = self._tables.get(name)
            if table is None:
                table = self._tables[name] = self.query_one(f"#table-{name}", ProjectionTable)
            changes = frame.changes_for(name)
            table.show(frame.rows.get(name, {}), changes, follow=follow, incremental=incremental)
            changed = bool(changes)
            if self._changed.get(name) != changed:
                self._changed[name] = changed
                tabs.get_tab(f"pane-{name}").set_class(changed, "-changed")

    def select_tab(self, index: int) -> None:
        """Show the tab at `index` (0-based), if there is one, and give its table focus."""
        names = self.names
        if 0 <= index < len(names):
            self.query_one(TabbedContent).active = f"pane-{names[index]}"
            self.call_after_refresh(self.focus_active)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # A tab clicked with the mouse: the table it shows takes the keys (up, down, enter).
        self.call_after_refresh(self.focus_active)

    def focus_active(self) -> None:
        """Focus the table on the visible tab, unless a dialog is open over the panels."""
        table = self.active_table
        if table is not None and self.screen is self.app.screen:
            table.focus()

    def cycle_tab(self, delta: int) -> None:
        """Show the next (or previous) tab."""
        names = self.names
        active = self.query_one(TabbedContent).active.removeprefix("pane-")
        index = names.index(active) if active in names else 0
        self.select_tab((index + delta) % len(names))
