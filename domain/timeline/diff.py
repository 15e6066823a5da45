"""Row differences between two points: rows added, removed and changed field by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.projection import ProjectionState, Row


class _Absent:
    """The value of a field a row does not have (shown as null in JSON)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""`FieldChange.old`/`new` when the row lacked the field."""


@dataclass(frozen=True)
class FieldChange:
    """One field of one row, before and after (`ABSENT` when the row lacked the field)."""

    old: Any
    new: Any


@dataclass(frozen=True)
class ProjectionDiff:
    """How one projection's rows differ between two points."""

    added: dict[str, Row] = field(default_factory=dict)
    removed: dict[str, Row] = field(default_factory=dict)
    changed: dict[str, dict[str, FieldChange]] = field(default_factory=dict)
    """Per row key, the fields whose values differ."""
    rows: dict[str, tuple[Row, Row]] = field(default_factory=dict, compare=False)
    """Per changed row key, the whole row before and after (for formatting by column)."""

    @property
    def empty(self) -> bool:
        """True when nothing differs."""
        return not (self.added or self.removed or self.changed)

    def apply_to(self, rows: Mapping[str, Row]) -> dict[str, Row]:
        """`rows` (as at the first point) turned into the rows at the second point."""
        result = {key: dict(row) for key, row in rows.items() if key not in self.removed}
        for key, changes in self.changed.items():
            row = result[key]
            for name, change in changes.items():
                if change.new is ABSENT:
                    row.pop(name, None)
                else:
                    row[name] = change.new
        for key, row in self.added.items():
            result[key] = dict(row)
        return result

    def to_json_dict(self) -> dict[str, Any]:
        """The diff as JSON data (`diff --json`)."""
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {
                key: {
                    name: {"old": _json(change.old), "new": _json(change.new)}
                    for name, change in changes.items()
                }
                for key, changes in self.changed.items()
            },
        }


def _json(value: Any) -> Any:
    return None if value is ABSENT else value


@dataclass(frozen=True)
class Diff:
    """What changed between positions `a` and `b`, per projection (rows only)."""

    a: int
    b: int
    projections: dict[str, ProjectionDiff]

    @property
    def empty(self) -> bool:
        """True when no projection differs."""
        return all(d.empty for d in self.projections.values())

    def apply_to(self, states: Mapping[str, ProjectionState]) -> dict[str, dict[str, Row]]:
        """The rows at `b`, per projection, from `states` at `a`."""
        return {name: diff.apply_to(states[name].rows) for name, diff in self.projections.items()}

    def to_json_dict(self) -> dict[str, Any]:
        """The diff as JSON data (`diff --json`)."""
        return {
            "a": self.a,
            "b": self.b,
            "projections": {n: d.to_json_dict() for n, d in self.projections.items()},
        }


def diff_rows(before: Mapping[str, Row], after: Mapping[str, Row]) -> ProjectionDiff:
    """Rows added, removed and changed (field by field) from `before` to `after`."""
    added = {k: dict(v) for k, v in after.items() if k not in before}
    removed = {k: dict(v) for k, v in before.items() if k not in after}
    changed: dict[str, dict[str, FieldChange]] = {}
    rows: dict[str, tuple[Row, Row]] = {}
    for key, new_row in after.items():
        old_row = before.get(key)
        if old_row is None or old_row == new_row:
            continue
        fields: dict[str, FieldChange] = {}
        for name in {**old_row, **new_row}:
            old, new = old_row.get(name, ABSENT), new_row.get(name, ABSENT)
            if old != new:
                fields[name] = FieldChange(old, new)
        changed[key] = fields
        rows[key] = (dict(old_row), dict(new_row))
    return ProjectionDiff(added, removed, changed, rows)


def changed_keys(before: Mapping[str, Row], after: Mapping[str, Row]) -> frozenset[str]:
    """The keys of rows added, removed or changed from `before` to `after`."""
    keys = {k for k, row in after.items() if before.get(k) != row}
    keys.update(k for k in before if k not in after)
    return frozenset(keys)
