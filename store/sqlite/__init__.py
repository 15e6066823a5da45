"""The SQLite event store, split by idea (see `store.py` for the class itself).

- store.py: `SqliteEventStore`, opening and closing; opening.py: file checks, schema.
- append.py: one command's append; bulk.py: bulk loads and imports.
- queries.py: the EventReader role; audit.py: refusals, bookmarks, links, verify.
- base.py: connections, errors, commit counting; checkpoints.py: WAL checkpoints.
- statements.py: SQL text and row conversions; schema.py / schema_check.py: the schema.
- connections.py, writer_queue.py, time_index.py: per-thread connections, the FIFO of
  in-process writers, and the time index behind `position_at`; group_commit.py: the
  appends waiting in that FIFO, run in one transaction.
"""

from store.sqlite.store import SYNCHRONOUS_MODES, SqliteEventStore

__all__ = ["SYNCHRONOUS_MODES", "SqliteEventStore"]
