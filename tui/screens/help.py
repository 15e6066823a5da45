"""`?`: every key binding, read from the bindings themselves so the list never drifts."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

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
        rows.append((key_text(binding.key), binding.description or binding.action))
    return rows


class HelpScreen(ModalScreen[None]):
    """A scrollable list of sections, each a table of keys."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, sections: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        # A key bound twice (the main screen repeats `?` so the footer shows it first)
        # is listed once, in the first section that has it.
        seen: set[str] = set()
        self.sections = []
        for title, bindings in sections:
            rows = []
            for keys, description in binding_rows(bindings):
                if keys not in seen:
                    seen.add(keys)
                    rows.append((keys, description))
            self.sections.append((title, rows))

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="sheet"):
            yield Label("Keys", classes="dialog-title")
            for title, rows in self.sections:
                table = Table.grid(padding=(0, 2))
                table.add_column(style="bold", min_width=14, no_wrap=True)
                table.add_column()
                for keys, description in rows:
                    table.add_row(Text(keys), description)
                yield Label(title, classes="help-section")
                yield Static(table)
            yield Static(
                "\n[dim]The mouse works too: click or drag on the timeline, click a log row, "
                "click a link in the inspector, double-click a panel row.[/dim]"
            )

    def action_close(self) -> None:
        self.dismiss(None)
