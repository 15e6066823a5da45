"""The non-event lines of an export, and the import records.

An export line is an event (the twelve `RecordedEvent` fields, exactly as before) or
a record: an object whose `record` field names its kind. Old exports hold only
events, so they still import; events are never given a `record` field.

- `command`: a command's type and payload, written just before its first event (or
  after all events for a command that recorded none).
- `refusal`: a refused command, written after the event at its `at_position`.
- `bookmark` and `import`: written after all events.

`ImportRecord` (one row of the import records) is a value of the `AuditRecords` role
(`domain.ports`); it is named here too, where the CLI and the inspector find it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.errors import DomainError, InvalidInput
from domain.ports import AuditRecords, ImportRecord
from domain.text import unsafe_refusal

RECORD = "record"
"""The field naming a record's kind; events never have it."""

COMMAND_FIELDS = ("command_id", "command_type", "payload", "actor", "recorded_at")
REFUSAL_FIELDS = (
    "recorded_at",
    "at_position",
    "actor",
    "command_id",
    "command_type",
    "command",
    "reason",
    "code",
)
BOOKMARK_FIELDS = ("name", "position", "actor", "created_at")
IMPORT_FIELDS = (
    "actor",
    "imported_at",
    "sha256",
    "source",
    "first_position",
    "last_position",
    "events",
)
KINDS: dict[str, tuple[str, ...]] = {
    "command": COMMAND_FIELDS,
    "refusal": REFUSAL_FIELDS,
    "bookmark": BOOKMARK_FIELDS,
    "import": IMPORT_FIELDS,
}

_KEYS = {kind: frozenset((RECORD, *fields)) for kind, fields in KINDS.items()}


def store_imports(store: AuditRecords) -> list[ImportRecord]:
    """The store's import records, oldest first ([] when they cannot be read)."""
    try:
        return store.imports()
    except DomainError:
        return []  # unreadable here; `verify` reports the database's own problems


def import_of(records: list[ImportRecord], position: int) -> ImportRecord | None:
    """The import (made in this database) that brought `position` in, if one did."""
    covering = [r for r in records if r.events and r.first_position <= position <= r.last_position]
    for record in covering:
        if record.restored_by is None:
            return record
    for record in covering:
        return record
    return None


def describe_imports(records: list[ImportRecord]) -> str:
    """`2 imports: #1-#500 from sha256 abcd… by ann at …; …` (or "no imports")."""
    if not records:
        return "no imports"
    count = len(records)
    items = "; ".join(r.describe() for r in records)
    return f"{count} import{'s' if count != 1 else ''}: {items}"


def check_record(value: Mapping[str, Any]) -> str:
    """The record's kind, refusing unknown kinds and missing or extra fields."""
    kind = value.get(RECORD)
    if not isinstance(kind, str) or kind not in KINDS:
        known = ", ".join(KINDS)
        raise InvalidInput(f"record kind {kind!r} is unknown; known kinds: {known}")
    if value.keys() == _KEYS[kind]:
        return kind
    fields = KINDS[kind]
    missing = [f for f in fields if f not in value]
    extra = sorted(k for k in value if k != RECORD and k not in fields)
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        raise InvalidInput(f"{kind} record: {'; '.join(parts)}")
    return kind


def text_field(value: Mapping[str, Any], name: str, kind: str, *, empty: bool = False) -> str:
    """`value[name]` as text, refusing other JSON types (and empty text unless allowed)."""
    text = value[name]
    if not isinstance(text, str) or (not empty and not text):
        raise InvalidInput(f"{kind} record: {name} must be a non-empty string, not {text!r}")
    # What no command could have recorded (and PostgreSQL text cannot hold a NUL).
    problem = unsafe_refusal(text, name)
    if problem is not None:
        raise InvalidInput(f"{kind} record: {problem}")
    return text


def int_field(value: Mapping[str, Any], name: str, kind: str) -> int:
    """`value[name]` as a whole number >= 0."""
    number = value[name]
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise InvalidInput(f"{kind} record: {name} must be a whole number >= 0, not {number!r}")
    return number
