"""`position_at` over the in-memory store's list of recorded times (the rule is
`domain.clock_skew`'s, as for SQLite)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.clock_skew import TimeBlocks, TimeReader, position_at


def memory_position_at(times: list[str], moment: str, blocks: TimeBlocks) -> int:
    """`domain.clock_skew.position_at` over `times` (position p's time at index p - 1)."""

    def read(first: int, last: int) -> Sequence[str]:
        return times[first - 1 : last]

    def block_min(first: int, last: int) -> str:
        return min(times[first - 1 : last])

    def last_at_or_before(first: int, last: int, moment: str) -> int:
        for position in range(last, first - 1, -1):
            if times[position - 1] <= moment:
                return position
        return 0

    return position_at(moment, TimeReader(len(times), read, block_min, last_at_or_before), blocks)
