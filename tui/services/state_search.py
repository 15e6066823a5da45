"""Finding text in the state at one point in time: rows and cells of every projection.

`ctrl+f` searches what the panels show at the cursor: each cell as its column formats
it (`1,441.36`, `2026-03-05 19:51:03`) and each row key. Matching ignores case, and for
numbers it also ignores thousands separators and spaces, so `1441.36` finds
`1,441.36`. The frame's rows are immutable, so a worker thread may search them while
the panels draw. No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from domain.projection import Projection, Row
from domain.text import escape
from tui.services.frames import natural_key

MAX_MATCHES = 500
"""The most matches listed; the count says when there were more."""

_SEPARATORS = str.maketrans("", "", ", '\u202f\u00a0")


@dataclass(frozen=True)
class StateMatch:
    """One cell (or row key) that holds the text searched for."""

    projection: str
    """The projection's name (its panel)."""
    projection_title: str
    key: str
    """The row key (as stored; escape before printing)."""
    field: str | None
    """The field whose cell matched; None when the row key matched."""
    field_title: str
    text: str
    """The cell as its column shows it (escaped)."""


@dataclass(frozen=True)
class StateSearch:
    """The matches found (at most `MAX_MATCHES`), and how many there were in all."""

    query: str
    matches: tuple[StateMatch, ...]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.matches)


def _needles(query: str) -> tuple[str, str]:
    """The query folded for text, and stripped of separators for numbers."""
    folded = query.strip().casefold()
    return folded, folded.translate(_SEPARATORS)


def _hits(text: str, needle: str, digits: str, numeric: bool) -> bool:
    folded = text.casefold()
    if needle in folded:
        return True
    return numeric and bool(digits) and digits in folded.translate(_SEPARATORS)


def _matches(
    projection: Projection, rows: Mapping[str, Row], needle: str, digits: str
) -> Iterator[StateMatch]:
    columns = list(projection.columns)
    for key in sorted(rows, key=natural_key):
        row = rows[key]
        found_cell = False
        for column in columns:
            text = column.format(row)
            if text and _hits(text, needle, digits, column.numeric):
                found_cell = True
                yield StateMatch(
                    projection.name, projection.title, key, column.name, column.title, text
                )
        if not found_cell and _hits(key, needle, digits, False):
            # The key holds it but no cell does (a key made of other values).
            yield StateMatch(
                projection.name,
                projection.title,
                key,
                None,
                projection.key_title,
                escape(key),
            )


def search_state(
    projections: Sequence[Projection],
    rows: Mapping[str, Mapping[str, Row]],
    query: str,
    *,
    limit: int = MAX_MATCHES,
) -> StateSearch:
    """Every cell and row key of `projections` holding `query`, panel by panel, rows in
    the panels' order. `rows` is projection name -> row key -> row (a frame's rows)."""
    needle, digits = _needles(query)
    if not needle:
        return StateSearch(query, (), 0)
    found: list[StateMatch] = []
    total = 0
    for projection in projections:
        for match in _matches(projection, rows.get(projection.name, {}), needle, digits):
            total += 1
            if len(found) < limit:
                found.append(match)
    return StateSearch(query, tuple(found), total)
