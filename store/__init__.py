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
