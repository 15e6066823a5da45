"""How the app writes positions, times and payloads: one place, so every panel agrees.

Times and values come from the store: `time_text` and `value_text` return them escaped
(`domain.text.escape`), ready to draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.markup import escape as escape_markup

from domain.cells import position_label, time_cell
from domain.text import escape


def stored_text(text: str, style: str = "") -> Text:
    """Stored `text` as a Rich `Text`: escaped, and never read as markup (`[b]` stays)."""
    return Text(escape(text), style=style)


def markup_safe(text: str) -> str:
    """Stored or typed `text` to put inside markup: escaped, then its `[` escaped too."""
    return escape_markup(escape(text))


def position_text(position: int) -> str:
    """`#1,234`; position 0 reads as the start of history (`domain.cells.position_label`)."""
    return position_label(position)


def time_text(recorded_at: str, *, seconds: bool = True, micros: bool = False) -> str:
    """`2026-03-01 14:02:11` from a stored UTC time (`...T14:02:11.123456Z`), escaped."""
    if not recorded_at:
        return ""
    if seconds and not micros:
        return escape(time_cell(recorded_at, {}))
    text = recorded_at.replace("T", " ").removesuffix("Z")
    if micros:
        return escape(text)
    return escape(text[:16])


def short_time_text(recorded_at: str) -> str:
    """`03-01 14:02:11`: the log's compact time."""
    return time_text(recorded_at)[5:19]


SHORT_TIMES_BELOW = 110
"""Below this table width times read `12-05 03:44:55` (the year is in the scrubber)."""


def table_time_text(recorded_at: str, width: int) -> str:
    """A dialog table's time cell: `2026-03-01 14:02:11`, or `03-01 14:02:11` in a
    table narrower than `SHORT_TIMES_BELOW` (width 0: not known yet, drawn whole)."""
    if 0 < width < SHORT_TIMES_BELOW:
        return short_time_text(recorded_at)
    return time_text(recorded_at)


def value_text(value: Any) -> str:
    """A JSON value as a person reads it: strings bare (escaped), None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, float):
        return f"{value:g}"
    return escape(str(value))


def payload_summary(data: Mapping[str, Any], context: str = "") -> str:
    """`amount=1200 currency=EUR`: a one-line summary of an event's payload (not escaped).

    Values already visible in `context` (the stream id, say) are left out.
    """
    parts = []
    for name, value in data.items():
        if isinstance(value, dict | list):
            continue
        if context and isinstance(value, str) and len(value) > 2 and value in context:
            continue
        # Raw, like a domain's own summary: the log escapes the whole summary once.
        parts.append(f"{name}={value if isinstance(value, str) else value_text(value)}")
    return " ".join(parts)
