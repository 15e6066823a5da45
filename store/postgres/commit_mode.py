"""Which path an unkeyed append takes on PostgreSQL: one commit each, or shared commits.

`eventscope.commit_mode`, read once when the store connects (a session, role or
database setting: `ALTER DATABASE … SET eventscope.commit_mode = 'auto'`):

- `each`: every append is one call of `eventscope_append`, its own commit (main's path
  before migration 4);
- `shared`: every append outside `exclusive_appends` goes through
  `eventscope_append_shared` (store/postgres/group_commit.py), which combines it with
  other writers' appends into one commit when the lock is busy;
- `auto` (the default): each writer session chooses for itself, from what its own
  appends observe (`CommitChooser`, the rule below; docs/postgres.md, "Which path").

The rule of `auto`. Every append returns when the server granted it the append lock
(`o_locked_at`, server clock) and its first position. Between two of one writer's
appends, (grant time moved) / (positions moved) is the store's *turn*: how long the
lock was held per append, by every writer, over that stretch. A writer combines while
its last append waited for the lock (a plain append: the grant came more than
`WAITED_MS` after the server received the statement; a shared one: its commit held
other writers' appends) and the turn is longer than `TURN_MS`: the lock is the
bottleneck and each turn is slow (a holder descheduled under CPU load, a slow fsync),
where one commit for many appends wins by far. Otherwise it appends alone: a writer
by itself, or many writers on a quiet machine where each turn is about one fsync and
the work is CPU-bound, so the dearer shared path (a queue row, a second commit, a
subtransaction per entry) would cost more server CPU than it saves in flushes.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from domain.errors import StoreError

COMMIT_MODES = ("auto", "shared", "each")
"""The values of `eventscope.commit_mode`."""

DEFAULT_COMMIT_MODE = "auto"

TURN_MS = 2.5
"""Above this lock time per append (store-wide), a waiting writer shares commits: on
this 2-core machine a quiet turn is about 1 ms (16 writers, one commit each: ~1,000
appends/s) and a loaded one 5-10 ms (run F: 95-119 appends/s); docs/performance-postgres.md."""

WAITED_MS = 2.5
"""A plain append whose lock came later than this after its statement arrived waited
for another writer: the lock is contended."""

_SETTING = "SELECT current_setting('eventscope.commit_mode', true)"


def read_commit_mode(conn: psycopg.Connection, where: str) -> str:
    """The session's `eventscope.commit_mode` (`DEFAULT_COMMIT_MODE` when unset);
    StoreError (one line) for a value that is not a mode."""
    row = conn.execute(_SETTING).fetchone()
    value = (row[0] if row else None) or DEFAULT_COMMIT_MODE
    mode = value.strip().lower()
    if mode not in COMMIT_MODES:
        raise StoreError(
            f"{where}: eventscope.commit_mode is {value!r}; set it to auto, shared or each "
            "(ALTER DATABASE … SET eventscope.commit_mode = 'auto')"
        )
    return mode


@dataclass
class CommitChooser:
    """One writer session's choice of path under `mode` (the module's rule)."""

    mode: str = DEFAULT_COMMIT_MODE
    combining: bool = False
    """Whether the next append takes the shared path (`auto`)."""
    _position: int | None = None
    _granted: float | None = None

    def shared(self) -> bool:
        """Whether the next append outside a transaction goes through shared commits."""
        if self.mode == "auto":
            return self.combining
        return self.mode == "shared"

    def observe(
        self, first: int | None, granted: float | None, waited: float | None, batch: int
    ) -> None:
        """What an append saw: its first position and lock grant (server clock, s), how
        long a plain append waited for the lock (s; None for a shared one) and how many
        appends its commit held (1 for a plain one)."""
        if first is None or granted is None:
            return  # a conflict or a duplicate: no turn measured
        position, before = self._position, self._granted
        self._position, self._granted = first, granted
        if position is None or before is None or first <= position:
            return
        turn_ms = (granted - before) * 1000 / (first - position)
        contended = batch > 1 if waited is None else waited * 1000 > WAITED_MS
        self.combining = contended and turn_ms > TURN_MS
