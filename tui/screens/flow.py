"""`f`: the CQRS flow of the latest command, stage by stage, lit as each completes.

Live, it follows the newest command, from this app's form or from any other process;
in the past, it shows the command of the event under the cursor; `←`/`→` step through
the last flows. The facts come from `tui.services.flow`; the read side's progress
(checkpoint, lag, what the panels show) from the main screen, re-read a few times a
second, so the projector and read-model stages light up as they complete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from domain.errors import DomainError
from domain.projection import Projection
from domain.text import escape
from tui.format import stored_text
from tui.screens.diff import cell_text
from tui.services.flow import CommandFlow, FlowKey, FlowProgress, Stage, stages
from tui.services.frames import RowDiff

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

POLL_SECONDS = 0.2
"""How often the view re-reads the read side's progress (and, when it moved, the flow)."""
ROWS_SHOWN = 6
"""Changed rows listed per projection (the rest are counted)."""

_MARKS = {"done": "●", "refused": "✗", "waiting": "◌", "skipped": "·"}


class FlowScreen(ModalScreen[None]):
    """The pipeline of one command: command → decision → events → projector → read models."""

    BINDINGS = [
        Binding("escape,q,f", "close", "Close"),
        Binding("left", "older", "Older flow"),
        Binding("right", "newer", "Newer flow"),
        Binding("l", "latest", "Latest"),
    ]

    class Loaded(Message):
        """A worker read the flow to show (None: nothing to show, with why)."""

        def __init__(
            self, flow: CommandFlow | None, history: list[FlowKey], token: object, why: str = ""
        ) -> None:
            super().__init__()
            self.flow = flow
            self.history = history
            self.token = token
            self.why = why

    def __init__(self, main: MainScreen) -> None:
        super().__init__()
        self.main = main
        self.session = main.session
        self.history: list[FlowKey] = []
        """The latest flows, newest first (from the last read)."""
        self.picked: FlowKey | None = None
        """A flow chosen with ←/→ (None: follow the latest, or the cursor in the past)."""
        self.flow: CommandFlow | None = None
        self._token: object = None
        self._loading = False

    def compose(self) -> ComposeResult:
        with Vertical(id="flow", classes="sheet"):
            yield Label("Flow", id="flow-title", classes="dialog-title")
            yield Static("", id="flow-where", classes="dialog-help")
            for i in range(5):
                with Horizontal(id=f"flow-stage-{i}", classes="flow-stage"):
                    yield Static("", id=f"flow-stage-{i}-name", classes="flow-stage-name")
                    yield Static("", id=f"flow-stage-{i}-body", classes="flow-stage-body")
            yield Static("", id="flow-rows")
        yield Footer()

    def on_mount(self) -> None:
        self._poll()
        self.set_interval(POLL_SECONDS, self._poll, name="flow")

    # -- what to show, and reading it

    def progress(self) -> FlowProgress:
        """Where the read side stands, as the main screen last saw it."""
        main, read_side = self.main, self.session.read_side
        status = main.live_watch.read_status
        checkpoint = None if read_side is None else status.checkpoint if status else 0
        frame = main.frame
        shown = frame.position if main.live and frame is not None else None
        delay = read_side.delay.ms if read_side is not None else 0
        return FlowProgress(head=main.head, checkpoint=checkpoint, shown=shown, delay_ms=delay)

    def _wanted(self) -> tuple[str, object]:
        """Which flow to show: ("picked", key), ("latest", head) or ("at", position)."""
        if self.picked is not None:
            return "picked", self.picked
        if self.main.live:
            return "latest", None
        return "at", self.main.target

    def _poll(self) -> None:
        self._show_stages()
        if not self._loading:
            mode, value = self._wanted()
            self._loading = True
            self._read(mode, value, self._token)

    @work(thread=True, exclusive=True, exit_on_error=False, group="flow")
    def _read(self, mode: str, value: object, token: object) -> None:
        session = self.session
        try:
            changed = session.change_token()
            current = (mode, value, changed)
            if current == token:
                self.post_message(self.Loaded(self.flow, self.history, token))
                return
            history = session.flows.recent()
            key: FlowKey | None
            if mode == "picked":
                key = value if isinstance(value, FlowKey) else None
            elif mode == "latest":
                key = history[0] if history else None
            else:
                key = session.flows.at(value if isinstance(value, int) else 0)
            if key is None:
                why = "No command yet." if mode == "latest" else "No event under the cursor."
                self.post_message(self.Loaded(None, history, current, why))
                return
            self.post_message(self.Loaded(session.flows.flow(key), history, current))
        except DomainError as exc:
            self.post_message(self.Loaded(None, self.history, None, f"Could not read it: {exc}"))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._loading = False
        self._token = message.token
        self.history = message.history
        self.flow = message.flow
        self._show_where(message.why)
        self._show_stages()

    # -- drawing

    def _show_where(self, why: str) -> None:
        flow, where = self.flow, self.query_one("#flow-where", Static)
        if flow is None:
            where.update(Text(escape(why)))
            return
        mode, _ = self._wanted()
        if mode == "latest":
            text = "The latest command (live: new commands show as they come)."
        elif mode == "at":
            text = "In the past: the command of the event under the cursor."
        else:
            text = f"Flow {self._place() + 1} of {len(self.history)}, newest first."
        line = Text(text + " ← older, → newer, l latest.  ")
        line.append(stored_text(f"{flow.recorded_at} · command {flow.command_id}", style="dim"))
        where.update(line)

    def _show_stages(self) -> None:
        flow = self.flow
        found = stages(flow, self.progress()) if flow is not None else []
        for i in range(5):
            stage = found[i] if i < len(found) else None
            row = self.query_one(f"#flow-stage-{i}", Horizontal)
            for state in _MARKS:
                row.set_class(stage is not None and stage.state == state, f"-{state}")
            name = f"{_MARKS[stage.state]} {i + 1} {stage.name}" if stage is not None else ""
            self.query_one(f"#flow-stage-{i}-name", Static).update(Text(name))
            body = stage_text(stage) if stage is not None else Text()
            self.query_one(f"#flow-stage-{i}-body", Static).update(body)
        rows = self.query_one("#flow-rows", Static)
        arrived = len(found) == 5 and found[4].state == "done"
        rows.update(self._rows_text(flow) if flow is not None and arrived else "")

    def _rows_text(self, flow: CommandFlow) -> Text:
        text = Text()
        for name, diffs in flow.changes.items():
            try:
                projection = self.session.domain.projection(name)
            except DomainError:
                continue
            text.append(f"{escape(projection.title)}\n", style="bold")
            for diff in diffs[:ROWS_SHOWN]:
                text.append_text(row_change_text(projection, diff))
                text.append("\n")
            if len(diffs) > ROWS_SHOWN:
                text.append(f"  … and {len(diffs) - ROWS_SHOWN:,} more\n", style="dim")
        return text

    # -- keys

    def _place(self) -> int:
        """The shown flow's place in the history (0: the newest)."""
        flow = self.flow
        if flow is None:
            return 0
        for i, key in enumerate(self.history):
            if key == flow.key or (key.command_id and key.command_id == flow.key.command_id):
                return i
        return 0

    def _pick(self, place: int) -> None:
        if not self.history:
            return
        place = max(0, min(len(self.history) - 1, place))
        self.picked = self.history[place]
        self._token = None
        self._poll()

    def action_older(self) -> None:
        """Show the flow before this one."""
        self._pick(self._place() + 1)

    def action_newer(self) -> None:
        """Show the flow after this one."""
        self._pick(self._place() - 1)

    def action_latest(self) -> None:
        """Follow the latest command again (or, in the past, the cursor's)."""
        self.picked = None
        self._token = None
        self._poll()

    def action_close(self) -> None:
        self.dismiss(None)


def stage_text(stage: Stage) -> Text:
    """What one stage did: its summary, then its details a line each."""
    text = stored_text(stage.summary)
    for line in stage.details:  # each escaped alone: a stored newline stays visible
        text.append("\n")
        text.append_text(stored_text(line))
    return text


def row_change_text(projection: Projection, diff: RowDiff) -> Text:
    """`  acc-1: Balance 10.00 EUR → 22.50 EUR`: one row the command changed."""
    text = Text("  ")
    text.append_text(stored_text(diff.key, style="bold"))
    text.append(": ")
    if diff.kind == "added":
        text.append("row added", style="green")
    elif diff.kind == "removed":
        text.append("row removed", style="red")
    titles = {c.name: c.title for c in projection.columns}
    for i, field in enumerate(diff.fields):
        if i:
            text.append("; ")
        text.append(escape(titles.get(field, field)))
        text.append(f" {cell_text(projection, field, diff.before)} → ")
        text.append(cell_text(projection, field, diff.after))
    return text
