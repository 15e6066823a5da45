"""A/B marks: mark one position, then another, and the pair opens a diff."""

from __future__ import annotations


class Marks:
    """Marks A and B. A third `mark` starts again from A."""

    def __init__(self) -> None:
        self.marks: dict[str, int] = {}

    def mark(self, position: int) -> tuple[int, int] | None:
        """Mark `position`: as A (returns None), or as B (returns the pair to diff)."""
        if "A" not in self.marks or "B" in self.marks:
            self.marks = {"A": position}
            return None
        self.marks["B"] = position
        return self.marks["A"], position

    def clear(self) -> bool:
        """Forget both marks; False when there were none."""
        if not self.marks:
            return False
        self.marks = {}
        return True

    def shown(self) -> tuple[tuple[str, int], ...]:
        """The marks as the header shows them, A first."""
        return tuple(sorted(self.marks.items()))
