"""argparse `type`s of the CLI's options: whole numbers within SQLite's range, finite
decimals, and the projector's delay."""

from __future__ import annotations

import argparse
import math

INT64 = (-(2**63), 2**63 - 1)
"""SQLite's INTEGER range: every whole-number option must fit in it."""


def whole_number(text: str) -> int:
    """argparse `type` for every integer option: an int within SQLite's 64-bit range."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not INT64[0] <= value <= INT64[1]:
        raise argparse.ArgumentTypeError(f"{text[:30]} is out of range (at most {INT64[1]})")
    return value


def projector_delay(text: str) -> int:
    """argparse `type` for `--projector-delay`: whole milliseconds the projector can hold."""
    from domain.errors import InvalidInput
    from tui.services.read_side_hooks import checked_delay

    try:
        return checked_delay(whole_number(text))
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def finite_number(text: str) -> float:
    """argparse `type` for every decimal option: a finite float (no inf, no nan)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value
