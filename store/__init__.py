"""eventscope's storage adapters: the SQLite event store and its in-memory twin.

- `SqliteEventStore` (store.sqlite): the `domain.ports.EventStore` port over one
  SQLite file in WAL mode, with schema migrations (store.sqlite.schema).
- `InMemoryEventStore` (store.memory): the same semantics in memory, the fake for tests.
- store.hashchain: canonical rows, SHA-256 / HMAC-SHA-256 chaining, `verify`,
  `check_anchor`, key loading.
- store.jsonl: streamed JSON Lines export and all-or-nothing import.
- store.filters / store.bookmarks: the filter (exact, GLOB, text) and bookmark rules
  both stores share (see docs/store-lookups.md).

`store` imports `domain`, never `tui`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.ports import VerifyReport
    from store.hashchain import (
        AnchorReport,
        check_anchor,
        load_key,
        parse_anchor,
        verify,
        verify_events,
    )
    from store.jsonl import export_events, import_events
    from store.memory import InMemoryEventStore
    from store.sqlite import SqliteEventStore

_HOMES = {
    "VerifyReport": "domain.ports",
    "AnchorReport": "store.hashchain",
    "check_anchor": "store.hashchain",
    "load_key": "store.hashchain",
    "parse_anchor": "store.hashchain",
    "verify": "store.hashchain",
    "verify_events": "store.hashchain",
    "export_events": "store.jsonl",
    "import_events": "store.jsonl",
    "InMemoryEventStore": "store.memory",
    "SqliteEventStore": "store.sqlite",
}
"""Where each name below lives. They are imported on first use (PEP 562), so that
importing one adapter (`store.sqlite` for `exec`) does not load every other one."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'store' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "AnchorReport",
    "InMemoryEventStore",
    "SqliteEventStore",
    "VerifyReport",
    "check_anchor",
    "export_events",
    "import_events",
    "load_key",
    "parse_anchor",
    "verify",
    "verify_events",
]
