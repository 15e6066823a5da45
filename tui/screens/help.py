"""`?`: the keys of the screen you are on, read from the bindings themselves so the list
never drifts, with a filter as you type."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

KEY_NAMES = {
    "left": "←",
    "right": "→",
    "up": "↑",
    "down": "↓",
    "shift+left": "shift+←",
    "shift+right": "shift+→",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "slash": "/",
    "question_mark": "?",
    "space": "space",
    "plus": "+",
    "equals_sign": "=",
    "minus": "-",
    "escape": "esc",
    "enter": "enter",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "ctrl+p": "ctrl+p",
    "ctrl+s": "ctrl+s",
    "ctrl+f": "ctrl+f",
    "comma": ",",
    "full_stop": ".",
    "less_than_sign": "<",
    "greater_than_sign": ">",
}


def key_text(keys: str) -> str:
    """`plus,equals_sign` -> `+ =`."""
    return " ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


def binding_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) for each binding; the panel digits collapse into one row."""
    rows: list[tuple[str, str]] = []
    digits = False
    for item in bindings:
        binding = item if isinstance(item, Binding) else Binding(*item)
        if binding.action.startswith("select_tab"):
            if not digits:
                rows.append(("1 … 9", "Show projection panel 1 to 9"))
                digits = True
            continue
        rows.append(
            (key_text(binding.key), binding.tooltip or binding.description or binding.action)
        )
    return rows


class HelpScreen(ModalScreen[None]):
    """The keys of the screen `?` was pressed on, in sections, narrowed as you type.

    The filter matches a key or a word of its description (case does not matter), like
    lazygit's help; esc closes.
    """

    BINDINGS = [Binding("escape", "close", "Close")]
    AUTO_FOCUS = "#help-filter"

    def __init__(self, sections: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        # A key bound twice to the same thing (the main screen repeats `?` so the footer
        # shows it first) is listed once, in the first section that has it. A key that
        # does something else elsewhere (↑ in the log, enter on a refusal) keeps its row.
        seen: set[tuple[str, str]] = set()
        self.sections: list[tuple[str, list[tuple[str, str]]]] = []
        for title, bindings in sections:
            rows = []
            for row in binding_rows(bindings):
                if row not in seen:
                    seen.add(row)
                    rows.append(row)
            if rows:
                self.sections.append((title, rows))
        self.query_text = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="help", classes="sheet"):
            yield Label("Keys", classes="dialog-title")
            field = Input(placeholder="type to filter: a key or a word", id="help-filter")
            # As every other input: the app's blink setting (off in tests and screenshots,
            # where a blinking cursor made the help's snapshot differ 1 run in 3).
            field.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
            yield field
            with VerticalScroll(id="help-keys"):
                yield Static(self._listing(), id="help-list")
            yield Static(
                "[dim]The mouse works too: click or drag on the timeline, click a log row, "
                "click a link in the inspector, double-click a panel row (on a field: its "
                "blame).[/dim]",
                id="help-mouse",
            )
        # The dialog's own keys, not the main screen's behind it.
        yield Footer()

    @on(Input.Changed, "#help-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.query_one("#help-list", Static).update(self._listing())

    def matching(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The sections and rows the filter lets through (all of them when it is empty)."""
        words = self.query_text.lower().split()
        if not words:
            return self.sections
        shown = []
        for title, rows in self.sections:
            kept = [
                (keys, description)
                for keys, description in rows
                if all(w in f"{keys} {description}".lower() for w in words)
            ]
            if kept:
                shown.append((title, kept))
        return shown

    def _listing(self) -> RenderableType:
        sections = self.matching()
        if not sections:
            return Text(f"No key matches {self.query_text.strip()!r}.", style="dim")
        parts: list[RenderableType] = []
        for n, (title, rows) in enumerate(sections):
            parts.append(Text(("\n" if n else "") + title, style="bold"))
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", min_width=14, no_wrap=True)
            table.add_column()
            for keys, description in rows:
                table.add_row(Text(keys), Text(description))
            parts.append(table)
        return Group(*parts)

    def action_close(self) -> None:
        self.dismiss(None)
