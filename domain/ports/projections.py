"""The read side's role: where a projector keeps its read models.

`ProjectionStore.read_models()` opens a `ReadModelStore` for one projector: its
transactions over the read-model tables (rows, aux parts, checkpoint and lease, all
written in one transaction), the event rows it folds, and the change token it
follows. The projector (`store.projector`) is written against these roles only, so
every store (in memory, SQLite) runs the same projector; each adapter holds its own
storage code. `tests/integration/contracts/test_read_models_contract.py` checks
every store against them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from domain.projection import Row

FoldRow = Sequence[Any]
"""One event as the projector folds it, in this column order: position, event_id,
stream_id, stream_type, version, type, schema_version, data (JSON text), metadata
(JSON text), recorded_at, prev_hash, hash."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where projector `name`'s read models stand."""

    name: str
    position: int
    fingerprint: str
    """Which projection definitions wrote the tables ("" after a failed first build)."""
    definitions: dict[str, str]
    error: str | None
    error_position: int | None
    updated_at: str


@dataclass(frozen=True, slots=True)
class LeaseRow:
    """Who may write a read model, until when, and for how long a lease runs."""

    owner: str
    expires_at: float
    seconds: float | None
    """None when an older writer did not record it."""


class ReadModelTables(Protocol):
    """The read-model tables inside one transaction (see `ReadModelStore.transaction`).

    A projection's tables are its rows (key → row) and its aux parts (part → JSON
    text); `new=True` names the twin a rebuild fills before `swap_in`.
    """

    def checkpoint(self, name: str) -> Checkpoint | None:
        """Projector `name`'s checkpoint (None before its first write)."""
        ...

    def check_checkpoint(self, name: str, position: int, fingerprint: str) -> None:
        """With a key, raise `DerivedDataForged` unless the checkpoint's MAC verifies."""
        ...

    def write_checkpoint(
        self,
        name: str,
        position: int,
        fingerprint: str,
        definitions: Mapping[str, str],
        updated_at: str,
    ) -> None:
        """Record that the tables reflect `position` (clears any recorded failure)."""
        ...

    def record_failure(self, name: str, message: str, position: int, updated_at: str) -> None:
        """Keep a projection failure on the checkpoint, where every process sees it."""
        ...

    def tables(self) -> set[str]:
        """Projections that have live tables."""
        ...

    def read_rows(
        self,
        projection: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        keys: Sequence[str] | None = None,
    ) -> dict[str, Row]:
        """Rows by key, in key order: all, a page after a key, or some keys."""
        ...

    def read_aux(self, projection: str) -> dict[str, bytes]:
        """The aux parts as stored (JSON bytes)."""
        ...

    def create_tables(self, projection: str, *, new: bool = False) -> None:
        """Create empty tables for `projection` (replacing any of the same name)."""
        ...

    def drop_tables(self, projection: str) -> None:
        """Drop `projection`'s live tables, if any."""
        ...

    def put_rows(
        self, projection: str, rows: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        """Write (key, row JSON) pairs."""
        ...

    def delete_rows(self, projection: str, keys: Iterable[str]) -> None:
        """Delete the live rows with these keys."""
        ...

    def put_aux(
        self, projection: str, parts: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        """Write (part, JSON) pairs."""
        ...

    def delete_aux(self, projection: str, parts: Iterable[str]) -> None:
        """Delete live aux parts."""
        ...

    def swap_in(self, projection: str) -> None:
        """Replace the live tables of `projection` by the rebuilt (`new`) ones."""
        ...

    def rebuild_leftovers(self) -> list[str]:
        """Names of `new` tables a rebuild left behind (it failed, or was killed)."""
        ...

    def drop_rebuild_leftovers(self) -> None:
        """Drop them."""
        ...

    def head(self) -> int:
        """The last event position, read in this transaction."""
        ...

    def lease(self, name: str) -> LeaseRow | None:
        """Read model `name`'s lease, if any."""
        ...

    def take_lease(self, name: str, owner: str, expires_at: float, seconds: float) -> None:
        """Make `owner` the holder until `expires_at`."""
        ...

    def renew_lease(self, name: str, owner: str, expires_at: float) -> bool:
        """Extend `owner`'s lease; False when `owner` does not hold it."""
        ...

    def release_lease(self, name: str, owner: str) -> None:
        """Remove `owner`'s lease, if it holds it."""
        ...


class ReadModelStore(Protocol):
    """One projector's access to its read models; `close()` when done."""

    @property
    def read_only(self) -> bool:
        """True when opened read-only: write transactions are refused."""
        ...

    @property
    def location(self) -> str:
        """Where the read models live, for messages (a path, a URL without password)."""
        ...

    def transaction(self, action: str, *, write: bool) -> AbstractContextManager[ReadModelTables]:
        """One transaction; a write takes its turn among this process's writers.

        Storage errors become `StoreError` naming `action`; an exception rolls back.
        """
        ...

    def fold_rows(self, after: int, limit: int) -> list[FoldRow]:
        """Up to `limit` events after position `after`, in order, as `FoldRow`s."""
        ...

    def head(self) -> int:
        """The last event position."""
        ...

    def data_version(self) -> int:
        """A change token that moves when any writer commits (see `EventReader`)."""
        ...

    def close(self) -> None:
        """Release connections; idempotent."""
        ...


@runtime_checkable
class SelectsFoldFields(Protocol):
    """An optional ability of a `ReadModelStore`: reading only some fields of events.

    A rebuild whose folds read, say, no metadata need not fetch it. The rows hold
    `fields` plus position, type, schema version and data, in `RecordedEvent` field
    order, then one None standing for every field not read (none when that is every
    field): `store.replay.selected_columns`. Stores without it return whole rows.
    """

    def fold_rows_reading(self, after: int, limit: int, fields: frozenset[str]) -> list[FoldRow]:
        """As `fold_rows`, with only `fields` (of `RecordedEvent`) read: narrow rows."""
        ...


class ProjectionStore(Protocol):
    """A store that can keep read models beside its events."""

    def read_models(self) -> ReadModelStore:
        """Open read-model access for one projector (the caller closes it)."""
        ...
