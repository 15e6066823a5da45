"""What the app shows at one point in time, and what changed since the point before.

A `Frame` is immutable once built: a worker thread builds it, the UI thread reads it.
Rows are copied out of the timeline's working state, so later replays never mutate
what a panel is drawing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.envelope import RecordedEvent
from domain.projection import Row
from tui.format import natural_key

Rows = dict[str, Row]
"""A projection's rows by key."""

RowChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class RowChanges:
    """How one projection's rows differ from the previous frame."""

    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    changed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Changed row key -> the names of the fields whose values differ."""

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def count(self) -> int:
        """How many rows were added, removed or changed."""
        return len(self.added) + len(self.removed) + len(self.changed)

    def touches(self, key: str) -> bool:
        """True when the row `key` was added or changed (what a panel highlights)."""
        return key in self.added or key in self.changed


@dataclass(frozen=True)
class Frame:
    """The state of every projection at `position`, with the event recorded there."""

    position: int
    """0 is before the first event."""
    event: RecordedEvent | None
    rows: Mapping[str, Rows]
    """Projection name -> row key -> row. Never mutated after the frame is built."""
    changes: Mapping[str, RowChanges]
    """Projection name -> what changed since `since` (missing: nothing changed)."""
    since: int | None = None
    """The position the changes are measured from (None: the first frame)."""

    def changes_for(self, projection: str) -> RowChanges:
        """What changed in `projection` (empty when nothing did)."""
        return self.changes.get(projection) or RowChanges()


@dataclass(frozen=True)
class RowDiff:
    """One row that differs between two points."""

    key: str
    kind: RowChangeKind
    before: Row | None
    after: Row | None
    fields: tuple[str, ...] = ()
    """For `changed`: the fields whose values differ, in the row's field order."""


@dataclass(frozen=True)
class StateDiff:
    """Every projection's row differences between positions `a` and `b`."""

    a: int
    b: int
    rows: Mapping[str, list[RowDiff]]
    """Projection name -> its differing rows, sorted by key."""

    @property
    def total(self) -> int:
        """How many rows differ, over all projections."""
        return sum(len(diffs) for diffs in self.rows.values())


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields whose values differ between two versions of a row, in row order."""
    names = list(after)
    names.extend(name for name in before if name not in after)
    return tuple(name for name in names if before.get(name) != after.get(name))


def compare_rows(
    before: Mapping[str, Row], after: Mapping[str, Row], keys: Iterable[str] | None = None
) -> RowChanges:
    """How `after` differs from `before`, looking only at `keys` when they are known."""
    if keys is None:
        added = frozenset(k for k in after if k not in before)
        removed = frozenset(k for k in before if k not in after)
        candidates: Iterable[str] = (k for k in after if k in before)
    else:
        keys = set(keys)
        added = frozenset(k for k in keys if k in after and k not in before)
        removed = frozenset(k for k in keys if k in before and k not in after)
        candidates = (k for k in keys if k in before and k in after)
    changed: dict[str, frozenset[str]] = {}
    for key in candidates:
        old, new = before[key], after[key]
        if old is new or old == new:
            continue
        changed[key] = frozenset(changed_fields(old, new))
    return RowChanges(added=added, removed=removed, changed=changed)


def diff_rows(before: Mapping[str, Row], after: Mapping[str, Row]) -> list[RowDiff]:
    """Field-level differences between two versions of a projection's rows, by key."""
    diffs: list[RowDiff] = []
    for key in sorted(set(before) | set(after), key=natural_key):
        old, new = before.get(key), after.get(key)
        if old is None and new is not None:
            diffs.append(RowDiff(key, "added", None, new))
        elif new is None and old is not None:
            diffs.append(RowDiff(key, "removed", old, None))
        elif old is not None and new is not None and old != new:
            diffs.append(RowDiff(key, "changed", old, new, changed_fields(old, new)))
    return diffs
