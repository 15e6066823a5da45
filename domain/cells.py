"""Cell formatters shared by the domains' projection columns (`Column.format`).

`grouped_decimal` is the one rule for writing a number: thousands separated by commas,
a fixed number of decimals, the sign in front. Counts, money (`domain.ledger.money`) and
every screen and CLI output that shows them go through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def grouped_decimal(units: int, digits: int = 0, *, signed: bool = False) -> str:
    """`units` of 10**-`digits` as a grouped decimal: (123456, 2) -> `1,234.56`.

    Exact for any int (no float touches it); `signed` writes `+` before a positive
    value and `±0` for zero, for changes (`+1,234.56`).
    """
    sign = "-" if units < 0 else ("+" if signed and units > 0 else "")
    if signed and units == 0:
        sign = "±"
    whole, fraction = divmod(abs(units), 10**digits)
    if digits <= 0:
        return f"{sign}{whole:,}"
    return f"{sign}{whole:,}.{fraction:0{digits}d}"


def position_label(position: int) -> str:
    """`#1,234`: a position in the global order, as every screen and the CLI write it."""
    return f"#{grouped_decimal(position)}"


def text_cell(value: Any, row: Mapping[str, Any]) -> str:
    """The value as text ("" for none)."""
    return "" if value is None else str(value)


def count_cell(value: Any, row: Mapping[str, Any]) -> str:
    """A whole number with thousands separators ("" for none)."""
    return "" if value is None else grouped_decimal(int(value))


def time_cell(value: Any, row: Mapping[str, Any]) -> str:
    """`2026-03-01T14:02:03.123456Z` -> `2026-03-01 14:02:03`: seconds are what a person
    reads; the inspector shows the exact stored time."""
    if not value:
        return ""
    text = str(value)
    if len(text) >= 19 and text[10] in "T ":
        return f"{text[:10]} {text[11:19]}"
    return text.replace("T", " ").removesuffix("Z")[:19]  # not a stored time: as it is
