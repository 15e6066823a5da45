"""The rules both stores apply to bookmarks: what a name may be, where one may point.

Bookmarks are annotations, not audit facts: they can be moved and deleted, and they
are not part of the hash chain. Their `created_at` is wall time, not the store's
clock, so setting one never shifts the times a test or demo clock gives to events.
"""

from __future__ import annotations

from domain.clock import SystemClock
from domain.errors import InvalidInput
from domain.text import UnsafeText, checked_text

NAME_MAX = 60
"""The longest bookmark name, in characters."""


def check_name(name: object) -> str:
    """`name` (NFC) if it is 1..60 characters, no control, bidi or invisible ones (see
    `domain.text.checked_text`), not starting or ending with a space."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("a bookmark needs a name")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"bookmark names are at most {NAME_MAX} characters, not {len(name)}")
    try:
        name = checked_text(name, field="bookmark name", max_length=NAME_MAX)
    except UnsafeText as exc:
        raise InvalidInput(str(exc)) from None
    if name != name.strip():
        raise InvalidInput("bookmark names must not start or end with a space")
    return name


def check_position(position: object, head: int) -> int:
    """`position` if it is a whole number from 0 (before the first event) to `head`."""
    if not isinstance(position, int) or isinstance(position, bool):
        raise InvalidInput(f"a bookmark position must be a whole number, not {position!r}")
    if not 0 <= position <= head:
        raise InvalidInput(f"a bookmark must point at a position from 0 to {head}, not {position}")
    return position


def now() -> str:
    """The time a bookmark is set: wall time, in the stored format."""
    return SystemClock().now()
