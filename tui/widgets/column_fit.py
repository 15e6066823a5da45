"""How a table's columns fit a width: pure rules, no widget.

Each column is as wide as its widest cell seen so far. When the room is short, the
least important columns give way first: text shrinks (cut with "…"), a time loses
whole units, and then the lowest-ranked columns hide (`Column.rank`). A number is
never cut. A row key made of the columns' own values is not shown at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rich.cells import cell_len, set_cell_size

from domain.projection import Column, ColumnKind, Row
from domain.text import escape

MIN_TEXT = 8
"""The narrowest a text column shrinks to before columns start to hide."""
MIN_TIME = len("2026-06-01…")
"""The narrowest a time column shrinks to: its date, whole."""
GAP = 2
WIDE = 24
"""Columns wider than this shrink first, down to it, before any other gives way."""

_KEY_SEPARATORS = re.compile(r"[\s:@·|/]+")


def key_columns(key: str, row: Row, columns: Sequence[Column]) -> tuple[int, ...] | None:
    """The columns whose values make up the row key, or None when the key says more.

    A key equal to one column's cell, or made of columns' values joined by separators
    (`2026-06-01 EUR`, `0000000123:overdraft:acc-1`, `sku@warehouse`), repeats what the
    columns show (or is an internal id built from them): the table does not show it.
    """
    for i, column in enumerate(columns):
        if column.format(row) == escape(key):
            return (i,)
    found: list[int] = []
    for part in filter(None, _KEY_SEPARATORS.split(key)):
        match = next((i for i, c in enumerate(columns) if _same(row.get(c.name), part)), None)
        if match is None:
            return None
        found.append(match)
    return tuple(found) or None


def row_name(key_title: str, columns: Sequence[Column], key: str, row: Row | None) -> str:
    """How a dialog's title names a row: by the columns its key is built from
    (`#131 · Flag overdraft · Account acc-1`, `Day 2026-06-01 · Cur EUR`), never by an
    internal composite key; `<key title> <key>` when the key says more than the
    columns (or no row is known). Escaped for a terminal; not markup-safe."""
    shown_by = key_columns(key, row, columns) if row is not None else None
    if row is None or shown_by is None:
        return f"{escape(key_title)} {escape(key)}"
    parts = []
    for index in shown_by:
        column = columns[index]
        cell = column.format(row)
        parts.append(f"#{cell}" if column.title == "#" else f"{column.title} {cell}")
    return " · ".join(parts)


def _same(value: object, part: str) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int):
        return part.isdigit() and int(part) == value
    return str(value) == part


def narrowest(kind: ColumnKind | None, width: int) -> int:
    """How narrow a column of `kind` (None: the row key) and full `width` may be drawn."""
    if kind in ("int", "money"):
        return width
    return min(width, MIN_TIME if kind in ("time", "date") else MIN_TEXT)


def cut(text: str, width: int, kind: ColumnKind | None) -> str:
    """`text` in `width` cells, ending with "…" when it does not fit.

    A time loses whole units (`2026-06-01 09:3…` never shows; `2026-06-01 09…` does),
    and a number is never cut: its column is as wide as its widest value.
    """
    if kind in ("int", "money") or cell_len(text) <= width:
        return text
    if kind in ("time", "date"):
        units = [i for i, ch in enumerate(text) if ch in " :T" and i <= width - 1]
        if units:
            return text[: units[-1]] + "…"
    return set_cell_size(text, width - 1) + "…"


def cut_words(text: str, width: int) -> str:
    """Free text (a log line's summary) in `width` cells, cut at a space and ending with
    "…" when it does not fit: an amount inside it (`-26.79 USD`) is shown whole or not
    at all, never as `-26.7`, the first word too (`+20,420 JPY …` in 7 cells is `…`,
    not `+20,42…`). One long word of another kind is cut like any text."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = set_cell_size(text, width - 1)
    space = head.rstrip().rfind(" ")
    if space > 0:
        return head[:space] + " …"
    cut_inside = not head.endswith(" ") and text[len(head) : len(head) + 1] not in ("", " ")
    if cut_inside and _AMOUNT_START.match(text):
        return "…"
    return head + "…"


_AMOUNT_START = re.compile(r"[+-]?[0-9]")
"""How a summary that starts with an amount starts (`+20,420 JPY`, `-26.79 USD`)."""


def fit_columns(
    widths: Sequence[int], floors: Sequence[int], ranks: Sequence[int], available: int
) -> list[tuple[int, int]]:
    """(column index, width) of the columns drawn in `available` cells, in order.

    Columns shrink down to their `floors` (`narrowest`), the lowest ranks first, before
    anything hides; then the column of lowest rank hides (the rightmost of equals
    first) until the rest fit. The last column left is always drawn.
    """

    def total(columns: Sequence[int], width: Mapping[int, int] | Sequence[int]) -> int:
        return 1 + sum(width[i] for i in columns) + GAP * (len(columns) - 1)

    shown = list(range(len(widths)))
    while len(shown) > 1 and total(shown, floors) > available:
        shown.remove(min(shown, key=lambda i: (ranks[i], -i)))
    fitted = {i: widths[i] for i in shown}
    excess = total(shown, fitted) - available
    while excess > 0:
        candidates = [i for i in shown if fitted[i] > floors[i]]
        if not candidates:
            break
        # Very wide columns (a long name, a reason) give way first, whatever their rank;
        # then the least important; among equals the widest, down to the next widest,
        # so their widths even out as they shrink.
        wide = [i for i in candidates if fitted[i] > WIDE]
        if wide:
            candidates = wide
        else:
            rank = min(ranks[i] for i in candidates)
            candidates = [i for i in candidates if ranks[i] == rank]
        widest = max(candidates, key=lambda i: fitted[i])
        next_widest = max((fitted[i] for i in candidates if i != widest), default=0)
        target = max(floors[widest], next_widest, fitted[widest] - excess, WIDE if wide else 0)
        if target >= fitted[widest]:
            target = fitted[widest] - 1
        excess -= fitted[widest] - target
        fitted[widest] = target
    return [(i, fitted[i]) for i in shown]
