"""Cell formatters shared by the domains' projection columns (`Column.format`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def text_cell(value: Any, row: Mapping[str, Any]) -> str:
    """The value as text ("" for none)."""
    return "" if value is None else str(value)


def count_cell(value: Any, row: Mapping[str, Any]) -> str:
    """A whole number with thousands separators ("" for none)."""
    return "" if value is None else f"{int(value):,}"


def time_cell(value: Any, row: Mapping[str, Any]) -> str:
    """`2026-03-01T14:02:03.123456Z` -> `2026-03-01 14:02:03`: seconds are what a person
    reads; the inspector shows the exact stored time."""
    if not value:
        return ""
    text = str(value)
    return f"{text[:10]} {text[11:19]}"
