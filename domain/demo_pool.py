"""A weighted pool of ids for the demo generators of every domain."""

from __future__ import annotations

import random


class WeightedPool:
    """Ids with O(1) add, remove and weighted random choice.

    An id is held `copies` times, so a uniform pick favours the busier ones without a
    rejection loop. Deterministic for a given `random.Random`.
    """

    def __init__(self) -> None:
        self.items: list[str] = []
        self._slots: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, item: object) -> bool:
        return item in self._slots

    def ids(self) -> list[str]:
        """The distinct ids, in the order they were added."""
        return list(self._slots)

    def add(self, item: str, copies: int = 1) -> None:
        """Hold `item` `copies` times (nothing if it is already held)."""
        if item in self._slots:
            return
        slots = self._slots[item] = []
        for _ in range(copies):
            slots.append(len(self.items))
            self.items.append(item)

    def remove(self, item: str) -> None:
        """Drop every copy of `item` (nothing if it is not held)."""
        slots = self._slots.pop(item, None)
        if slots is None:
            return
        # Fill each freed slot from the end, highest first, so no index goes stale.
        for index in sorted(slots, reverse=True):
            last_index = len(self.items) - 1
            last = self.items.pop()
            if index < last_index:
                self.items[index] = last
                moved = self._slots[last]
                moved[moved.index(last_index)] = index

    def choice(self, rng: random.Random) -> str:
        """A weighted random id; the pool must not be empty."""
        items = self.items
        return items[int(rng.random() * len(items))]

    def pick(self, rng: random.Random) -> str | None:
        """A weighted random id, or None from an empty pool (drawing nothing then)."""
        return self.choice(rng) if self.items else None
