"""What the app shows at one point in time, and what changed since the point before.

A `Frame` is immutable once built: a worker thread builds it, the UI thread reads it.
Rows are copied out of the timeline's working state, so later replays never mutate
what a panel is drawing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from domain.envelope import RecordedEvent
from domain.projection import Row
from domain.timeline import Diff, ProjectionDiff, changed_fields

_DIGITS = re.compile(r"(\d+)")


@lru_cache(maxsize=1 << 16)
def natural_key(text: str) -> tuple[Any, ...]:
    """Sort `acc-2` before `acc-10` (cached: panels sort the same keys again and again)."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(text))


Rows = dict[str, Row]
"""A projection's rows by key."""

RowChangeKind = Literal["added", "removed", "changed"]
FrameSource = Literal["timeline", "read_models"]
"""Where a frame's rows came from: a replay (snapshot plus events) or the persisted
read models the projector keeps."""


class RowChanges:
    """How one projection's rows differ from the previous frame.

    Built from known sets, or with `between` from two versions of the rows, compared
    when first asked: after a jump thousands of rows differ, and a projection on a
    hidden tab is only ever asked whether anything changed (which stops at the first
    difference).
    """

    __slots__ = ("_added", "_after", "_before", "_changed", "_removed")

    def __init__(
        self,
        added: Iterable[str] = (),
        removed: Iterable[str] = (),
        changed: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self._added = frozenset(added)
        self._removed = frozenset(removed)
        self._changed: Mapping[str, frozenset[str]] = changed if changed is not None else {}
        self._before: Mapping[str, Row] | None = None
        self._after: Mapping[str, Row] | None = None

    @classmethod
    def between(cls, before: Mapping[str, Row], after: Mapping[str, Row]) -> RowChanges:
        """The differences of `after` from `before`, worked out when first asked."""
        changes = cls()
        changes._before, changes._after = before, after
        return changes

    def _work_out(self) -> None:
        before, after = self._before, self._after
        if before is None or after is None:
            return
        self._added = frozenset(k for k in after if k not in before)
        self._removed = frozenset(k for k in before if k not in after)
        changed = [
            k for k in after if k in before and not (before[k] is after[k] or before[k] == after[k])
        ]
        self._changed = ChangedFields(before, after, changed)
        self._before = self._after = None

    @property
    def added(self) -> frozenset[str]:
        """Keys of the rows that appeared."""
        self._work_out()
        return self._added

    @property
    def removed(self) -> frozenset[str]:
        """Keys of the rows that disappeared."""
        self._work_out()
        return self._removed

    @property
    def changed(self) -> Mapping[str, frozenset[str]]:
        """Changed row key -> the names of the fields whose values differ."""
        self._work_out()
        return self._changed

    def __bool__(self) -> bool:
        before, after = self._before, self._after
        if before is not None and after is not None:
            if before.keys() != after.keys():
                return True
            return any(not (before[k] is row or before[k] == row) for k, row in after.items())
        return bool(self._added or self._removed or self._changed)

    def __repr__(self) -> str:
        changed = dict(self.changed)
        return f"RowChanges(added={self.added!r}, removed={self.removed!r}, changed={changed!r})"

    @property
    def count(self) -> int:
        """How many rows were added, removed or changed."""
        return len(self.added) + len(self.removed) + len(self.changed)


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
    source: FrameSource = "timeline"
    refusals_total: int = 0
    """How many refusals were recorded up to `position` (`rows` carries the latest)."""

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


def compare_rows(
    before: Mapping[str, Row], after: Mapping[str, Row], keys: Iterable[str] | None = None
) -> RowChanges:
    """How `after` differs from `before`, looking only at `keys` when they are known.

    Without `keys`, every row is compared, when the result is first asked.
    """
    if keys is None:
        return RowChanges.between(before, after)
    keys = set(keys)
    added = frozenset(k for k in keys if k in after and k not in before)
    removed = frozenset(k for k in keys if k in before and k not in after)
    changed = [
        k
        for k in keys
        if k in before and k in after and not (before[k] is after[k] or before[k] == after[k])
    ]
    return RowChanges(added=added, removed=removed, changed=ChangedFields(before, after, changed))


class ChangedFields(Mapping[str, frozenset[str]]):
    """Changed row key -> the fields that differ, worked out for a row when asked.

    After a jump thousands of rows differ, and a panel only ever asks about the few it
    draws. Safe because a frame's rows never change once built.
    """

    def __init__(self, before: Mapping[str, Row], after: Mapping[str, Row], keys: list[str]):
        self._before = before
        self._after = after
        self._keys = dict.fromkeys(keys)
        self._fields: dict[str, frozenset[str]] = {}

    def __getitem__(self, key: str) -> frozenset[str]:
        if key not in self._keys:
            raise KeyError(key)
        fields = self._fields.get(key)
        if fields is None:
            fields = self._fields[key] = frozenset(
                changed_fields(self._before[key], self._after[key])
            )
        return fields

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def state_diff(diff: Diff) -> StateDiff:
    """The timeline's diff as the diff screen shows it: each projection's rows by key."""
    return StateDiff(
        a=diff.a, b=diff.b, rows={name: row_diffs(part) for name, part in diff.projections.items()}
    )


def row_diffs(diff: ProjectionDiff) -> list[RowDiff]:
    """One projection's diff as rows sorted by key, changed fields in the row's order."""
    rows: list[RowDiff] = []
    for key in sorted({*diff.added, *diff.removed, *diff.changed}, key=natural_key):
        if key in diff.added:
            rows.append(RowDiff(key, "added", None, diff.added[key]))
        elif key in diff.removed:
            rows.append(RowDiff(key, "removed", diff.removed[key], None))
        else:
            before, after = diff.rows[key]
            changes = diff.changed[key]
            order = [*after, *(name for name in before if name not in after)]
            fields = tuple(name for name in order if name in changes)
            rows.append(RowDiff(key, "changed", before, after, fields))
    return rows
