"""Where a stored event came from and whether it still validates: for the inspector.

An event that arrived by `import` names that import (who, when, which file's SHA-256);
an event whose data or metadata no longer validates says which field is bad. Both are
looked up from a worker thread, like the inspector's other lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.description import DomainDescription
from domain.envelope import RecordedEvent
from domain.ports import AuditRecords
from domain.stored_problems import event_problem
from store.transfer.records import import_of, store_imports


@dataclass(frozen=True)
class Provenance:
    problem: str = ""
    """Why the stored event does not validate ('' when it does)."""
    imported: str = ""
    """Which import brought it in ('' when it was appended here)."""


def provenance(domain: DomainDescription, store: AuditRecords, event: RecordedEvent) -> Provenance:
    """The event's validation problem and import, if any (blocking: call from a worker)."""
    problem = event_problem(domain.model, event)
    record = import_of(store_imports(store), event.position)
    imported = "" if record is None else f"import {record.id}: {record.describe()}"
    return Provenance(problem=problem, imported=imported)
