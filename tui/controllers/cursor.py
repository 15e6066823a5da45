"""The time cursor: the one place that holds where the user asked to be.

The panels follow the cursor as soon as a frame is built; everything else (header,
scrubber, log, autoplay, marks, the command form's warning) reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.services.stepping import is_step


def is_jump(before: int, after: int) -> bool:
    """True when moving from `before` to `after` is a jump (`tui.services.stepping.is_step`):
    the log then fetches the rows around the new place first."""
    return not is_step(before, after)


@dataclass(frozen=True)
class Move:
    """One move of the cursor, as `TimeCursor.move` made it."""

    position: int
    live: bool
    was_live: bool
    jump: bool


class TimeCursor:
    """Where the user asked to be (`target`), whether it follows the head, and the head."""

    def __init__(self) -> None:
        self.target = 0
        self.head = 0
        self.live = True

    def move(self, position: int, *, live: bool = False) -> Move:
        """Go to `position` (kept within history), or follow the head when `live`."""
        position = max(0, min(self.head, position))
        move = Move(position, live, self.live, is_jump(self.target, position))
        self.target, self.live = position, live
        return move

    def saw_head(self, head: int) -> bool:
        """Note a head reported by the store; True when it moved on."""
        if head <= self.head:
            return False
        self.head = head
        return True
