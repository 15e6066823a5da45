"""The in-memory store's `ProjectionStore` role: read models in dictionaries.

Same semantics as the SQLite tables (`store.sqlite.read_models`): a transaction
sees one consistent state and an exception rolls back every change it made; write
transactions take turns. There is no file anyone else could edit, so a checkpoint
needs no MAC: `check_checkpoint` accepts what this process wrote.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.errors import StoreError
from domain.ports.projections import Checkpoint, FoldRow, LeaseRow
from domain.projection import Row
from store.hashchain import ChainRow

_NEW = "__new"


@dataclass
class MemoryReadModelData:
    """Everything the read models hold, shared by every projector of one store."""

    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    """Table name (`p` live, `p__new` rebuilding) → key → row JSON."""
    aux: dict[str, dict[str, str]] = field(default_factory=dict)
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)
    leases: dict[str, LeaseRow] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


def fold_rows_of(rows: Sequence[ChainRow]) -> list[FoldRow]:
    """Chain rows as `FoldRow`s (the same columns, in the projector's order)."""
    return [(*r[:7], r[8], r[9], r[7], r[10], r[11]) for r in rows]


def _table(projection: str, new: bool) -> str:
    return projection + _NEW if new else projection


class MemoryReadModelTables:
    """`ReadModelTables` over `MemoryReadModelData`, journaling writes for rollback."""

    def __init__(self, data: MemoryReadModelData, head: Callable[[], int], write: bool) -> None:
        self._data = data
        self._head = head
        self._write = write
        self._undo: list[Callable[[], None]] = []
        self._copied: set[tuple[int, str]] = set()

    def _writing(self) -> None:
        if not self._write:
            raise StoreError("read models: cannot write in a read transaction")

    def _keep(self, mapping: dict[str, Any], key: str) -> None:
        """Journal `mapping[key]` as it is now, to restore it on rollback."""
        if key in mapping:
            old = mapping[key]
            self._undo.append(lambda: mapping.__setitem__(key, old))
        else:
            self._undo.append(lambda: mapping.pop(key, None))

    def rollback(self) -> None:
        for step in reversed(self._undo):
            step()
        self._undo.clear()

    def checkpoint(self, name: str) -> Checkpoint | None:
        return self._data.checkpoints.get(name)

    def check_checkpoint(self, name: str, position: int, fingerprint: str) -> None:
        return None  # nothing outside this process can change it

    def write_checkpoint(
        self,
        name: str,
        position: int,
        fingerprint: str,
        definitions: Mapping[str, str],
        updated_at: str,
    ) -> None:
        self._writing()
        self._keep(self._data.checkpoints, name)
        self._data.checkpoints[name] = Checkpoint(
            name, position, fingerprint, dict(definitions), None, None, updated_at
        )

    def record_failure(self, name: str, message: str, position: int, updated_at: str) -> None:
        self._writing()
        old = self._data.checkpoints.get(name)
        self._keep(self._data.checkpoints, name)
        if old is None:
            old = Checkpoint(name, 0, "", {}, None, None, updated_at)
        self._data.checkpoints[name] = Checkpoint(
            name, old.position, old.fingerprint, old.definitions, message, position, updated_at
        )

    def tables(self) -> set[str]:
        return {name for name in self._data.rows if not name.endswith(_NEW)}

    def read_rows(
        self,
        projection: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        keys: Sequence[str] | None = None,
    ) -> dict[str, Row]:
        table = self._data.rows.get(projection, {})
        loads = orjson.loads
        if keys is not None:
            return {k: loads(table[k]) for k in keys if k in table}
        chosen = sorted(k for k in table if after is None or k > after)
        if limit is not None:
            chosen = chosen[:limit]
        return {k: loads(table[k]) for k in chosen}

    def read_aux(self, projection: str) -> dict[str, bytes]:
        return {p: v.encode() for p, v in self._data.aux.get(projection, {}).items()}

    def _replace_table(
        self, projection: str, rows: dict[str, str] | None, aux: dict[str, str] | None
    ) -> None:
        for mapping, value in ((self._data.rows, rows), (self._data.aux, aux)):
            self._copied.add((id(mapping), projection))  # a fresh table: ours to change
            self._keep(mapping, projection)
            if value is None:
                mapping.pop(projection, None)
            else:
                mapping[projection] = value

    def create_tables(self, projection: str, *, new: bool = False) -> None:
        self._writing()
        self._replace_table(_table(projection, new), {}, {})

    def drop_tables(self, projection: str) -> None:
        self._writing()
        self._replace_table(projection, None, None)

    def _mutable(self, mapping: dict[str, dict[str, str]], table: str) -> dict[str, str]:
        """`mapping[table]`, copied once per transaction so a rollback can restore it."""
        mark = (id(mapping), table)
        if mark not in self._copied:
            self._copied.add(mark)
            self._keep(mapping, table)
            mapping[table] = dict(mapping.get(table, {}))
        return mapping[table]

    def put_rows(
        self, projection: str, rows: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        self._writing()
        self._mutable(self._data.rows, _table(projection, new)).update(rows)

    def delete_rows(self, projection: str, keys: Iterable[str]) -> None:
        self._writing()
        table = self._mutable(self._data.rows, projection)
        for key in keys:
            table.pop(key, None)

    def put_aux(
        self, projection: str, parts: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        self._writing()
        self._mutable(self._data.aux, _table(projection, new)).update(parts)

    def delete_aux(self, projection: str, parts: Iterable[str]) -> None:
        self._writing()
        table = self._mutable(self._data.aux, projection)
        for part in parts:
            table.pop(part, None)

    def swap_in(self, projection: str) -> None:
        self._writing()
        new = _table(projection, True)
        rows, aux = self._data.rows.get(new, {}), self._data.aux.get(new, {})
        self._replace_table(new, None, None)
        self._replace_table(projection, rows, aux)

    def rebuild_leftovers(self) -> list[str]:
        return sorted(name for name in self._data.rows if name.endswith(_NEW))

    def drop_rebuild_leftovers(self) -> None:
        self._writing()
        for name in self.rebuild_leftovers():
            self._replace_table(name, None, None)

    def head(self) -> int:
        return self._head()

    def lease(self, name: str) -> LeaseRow | None:
        return self._data.leases.get(name)

    def take_lease(self, name: str, owner: str, expires_at: float, seconds: float) -> None:
        self._writing()
        self._keep(self._data.leases, name)
        self._data.leases[name] = LeaseRow(owner, expires_at, seconds)

    def renew_lease(self, name: str, owner: str, expires_at: float) -> bool:
        self._writing()
        row = self._data.leases.get(name)
        if row is None or row.owner != owner:
            return False
        self._keep(self._data.leases, name)
        self._data.leases[name] = LeaseRow(owner, expires_at, row.seconds)
        return True

    def release_lease(self, name: str, owner: str) -> None:
        self._writing()
        row = self._data.leases.get(name)
        if row is not None and row.owner == owner:
            self._keep(self._data.leases, name)
            del self._data.leases[name]


class MemoryReadModels:
    """`ReadModelStore` over one in-memory store's read models."""

    def __init__(
        self,
        data: MemoryReadModelData,
        *,
        fold_rows: Callable[[int, int], list[FoldRow]],
        head: Callable[[], int],
        data_version: Callable[[], int],
        read_only: bool = False,
    ) -> None:
        self._data = data
        self._fold_rows = fold_rows
        self._head = head
        self._data_version = data_version
        self._read_only = read_only
        self._closed = False

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def location(self) -> str:
        return "memory:"

    @contextlib.contextmanager
    def transaction(self, action: str, *, write: bool) -> Iterator[MemoryReadModelTables]:
        if self._closed:
            raise StoreError("the projector for memory: is closed")
        if write and self._read_only:
            raise StoreError(f"memory: is open read-only: cannot {action}")
        with self._data.lock:
            tables = MemoryReadModelTables(self._data, self._head, write)
            try:
                yield tables
            except BaseException:
                tables.rollback()
                raise

    def fold_rows(self, after: int, limit: int) -> list[FoldRow]:
        return self._fold_rows(after, limit)

    def head(self) -> int:
        return self._head()

    def data_version(self) -> int:
        return self._data_version()

    def close(self) -> None:
        self._closed = True
