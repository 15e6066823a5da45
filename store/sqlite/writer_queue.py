"""The in-process queue of writers in front of SQLite's write lock.

SQLite lets one connection write at a time; the others wait in its busy handler,
which sleeps and retries with no order at all. With 32 threads appending through one
store, an unlucky thread lost every retry for the whole busy timeout and a
"database is locked" reached its caller. So threads of one store queue here first,
first come first served, and only the thread at the front runs `BEGIN IMMEDIATE`;
the busy handler then only arbitrates between processes. Readers never queue.

Each write is handed in as a unit of work (`transaction(conn, work)`), not run
between a lock and an unlock by the caller. Appends go through `grouped`: the thread
at the front runs the work of every append waiting behind it in one transaction (a
savepoint each, so each keeps its own checks and result) and pays one fsync for all
(`store.sqlite.group_commit`). Other writes run their own transaction on their turn.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from store.sqlite.group_commit import MAX_GROUP, Job, begin_immediate, run_group

T = TypeVar("T")

GATHER_SHARE = 0.25
"""A leader waits for the appends of its previous group's threads at most this share of
the time the previous group's COMMIT took (its fsync, at FULL): waiting pays only where
one commit shared saves that much; at NORMAL a commit is quick and nobody waits."""
GATHER_MAX_S = 0.002
"""And never longer than this many seconds."""


def _always(_: object) -> bool:
    return True


class WriterQueue:
    """A fair (FIFO) turn for the threads of one store that want to write."""

    def __init__(self, busy_timeout_ms: int = 5000) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        """Notified when an append joins the queue (a gathering leader waits on it)."""
        self._gathering = False
        self._last_group = 0
        """How many appends the last group took."""
        self._last_commit_s = 0.0
        """How long the last group's COMMIT took, in seconds."""
        self._waiting: deque[threading.Event] = deque()
        self._owner: int | None = None
        self._depth = 0
        self._jobs: deque[Job] = deque()
        """Appends waiting for a group (their tickets wait in `_waiting` too)."""
        self._busy_timeout_ms = busy_timeout_ms
        self.groups = 0
        """Group transactions run so far (a benchmark reads appends per commit from it)."""
        self.grouped_appends = 0
        """Appends those groups took."""

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this thread's turn (re-entrant), hold it for the block."""
        me = threading.get_ident()
        if self._owner == me:  # a write inside a write (only this thread sets it so)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        ticket: threading.Event | None = None
        with self._lock:
            if self._owner is None and not self._waiting:
                self._owner = me
            else:
                ticket = threading.Event()
                self._waiting.append(ticket)
        if ticket is not None:
            self._wait(ticket)
            self._owner = me  # handed over by the previous owner, in arrival order
        try:
            yield
        finally:
            self._hand_over()

    def _wait(self, ticket: threading.Event) -> None:
        try:
            ticket.wait()
        except BaseException:  # interrupted (Ctrl-C): leave the line without blocking it
            with self._lock:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                    raise
            self._hand_over()  # the turn had reached us: pass it on
            raise

    def _hand_over(self) -> None:
        with self._lock:
            self._owner = None
            if self._waiting:
                # The next in line owns the turn from now; it records itself on waking.
                self._owner = -1
                self._waiting.popleft().set()

    def waiting(self) -> int:
        """How many threads wait for a turn (what a group commit would take along)."""
        with self._lock:
            return len(self._waiting)

    def transaction(
        self,
        conn: sqlite3.Connection,
        work: Callable[[sqlite3.Connection], T],
        *,
        keep: Callable[[T], bool] = _always,
    ) -> T:
        """Run `work(conn)` in `BEGIN IMMEDIATE … COMMIT` on this thread's turn.

        `keep(result)` False rolls the transaction back instead (a duplicate command);
        any exception rolls it back and propagates (sqlite3 errors included: the
        caller turns them into one-line errors).
        """
        with self.turn():
            if conn.in_transaction:  # inside this thread's `exclusive` block
                return _in_savepoint(conn, work, keep)
            begin_immediate(conn, self._busy_timeout_ms)
            try:
                result = work(conn)
                conn.execute("COMMIT" if keep(result) else "ROLLBACK")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return result

    @contextmanager
    def exclusive(self, conn: sqlite3.Connection) -> Iterator[None]:
        """This thread's turn and `BEGIN IMMEDIATE`, held for the block: no other
        writer, in this process or another, writes until it ends. Committed at its end,
        rolled back if it raises; writes inside run in savepoints. Re-entrant."""
        with self.turn():
            if conn.in_transaction:
                yield
                return
            begin_immediate(conn, self._busy_timeout_ms)
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def grouped(
        self,
        conn: sqlite3.Connection,
        work: Callable[[sqlite3.Connection], T],
        *,
        keep: Callable[[T], bool] = _always,
    ) -> T:
        """Like `transaction`, but in one transaction with the appends waiting beside it.

        `work` may run on another thread, with that thread's connection (`conn` is
        used only when this thread leads the group); it must use only the connection
        it is given. Its result (or error) comes back here after the group's COMMIT.
        `keep(result)` False rolls back only this work's savepoint.
        """
        me = threading.get_ident()
        if self._owner == me:  # inside this thread's own turn: no group to wait for
            return self.transaction(conn, work, keep=keep)
        job = Job(work, keep)
        with self._lock:
            self._jobs.append(job)
            if self._gathering:
                self._arrived.notify()
            lead = self._owner is None and not self._waiting
            if lead:
                self._owner = me
            else:
                job.wake = wake = threading.Event()
                self._waiting.append(wake)
        if not lead:
            self._wait_for_job(job, wake)
            if job.done:
                result: T = job.outcome()
                return result
            self._owner = me  # the turn was handed to this thread: it leads
        try:
            self._lead(conn, job)
        finally:
            self._hand_over()
        result = job.outcome()
        return result

    def _wait_for_job(self, job: Job, wake: threading.Event) -> None:
        try:
            wake.wait()
        except BaseException:  # interrupted: leave the line, or pass on the turn
            with self._lock:
                if wake in self._waiting:
                    self._waiting.remove(wake)
                if not job.taken:
                    if job in self._jobs:
                        self._jobs.remove(job)
                    handed = wake.is_set()
                else:
                    handed = False  # a leader runs it; its outcome is lost to us
            if handed:
                self._hand_over()
            raise

    def _gather(self) -> None:
        """Wait (under the lock) a moment for the threads of the previous group to append.

        Threads that append in a loop come back one decision after their group's
        commit; without this wait, 8 such threads settle into two alternating groups
        of about 4 (each paying its own fsync). The wait ends when as many appends
        wait as the previous group had plus those already waiting then, and at the
        latest after a share of the previous COMMIT's time: nobody waits for threads
        that do not come back (a lone writer never waits), nor where commits are quick.
        """
        previous = self._last_group
        if previous < 2:
            return
        target = min(MAX_GROUP, len(self._jobs) + previous - 1)
        deadline = time.monotonic() + min(GATHER_MAX_S, self._last_commit_s * GATHER_SHARE)
        self._gathering = True
        try:
            while len(self._jobs) < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
        finally:
            self._gathering = False

    def _lead(self, conn: sqlite3.Connection, own: Job) -> None:
        """Run the waiting appends (this thread's `own` among them) as one group."""
        with self._lock:
            try:
                self._gather()
            except BaseException:  # interrupted while gathering: this append never ran
                if own in self._jobs:
                    self._jobs.remove(own)
                raise
            group: list[Job] = []
            if own in self._jobs:  # first, so the leader never waits for a later group
                self._jobs.remove(own)
                self._jobs.appendleft(own)
            while self._jobs and len(group) < MAX_GROUP:
                job = self._jobs.popleft()
                job.taken = True
                group.append(job)
                if job.wake is not None and job.wake in self._waiting:
                    self._waiting.remove(job.wake)  # its thread no longer waits for a turn
            self.groups += 1
            self.grouped_appends += len(group)
        commit_s = 0.0
        try:
            commit_s = run_group(conn, group, self._busy_timeout_ms)
        finally:
            self._last_group, self._last_commit_s = len(group), commit_s
            for job in group:
                job.done = True
                if job.wake is not None:
                    job.wake.set()


def _in_savepoint(
    conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], keep: Callable[[T], bool]
) -> T:
    """`work(conn)` in a savepoint of the open transaction; undone if it raises, or if
    `keep(result)` is False."""
    conn.execute("SAVEPOINT exclusive_write")
    try:
        result = work(conn)
    except BaseException:
        conn.execute("ROLLBACK TO exclusive_write")
        conn.execute("RELEASE exclusive_write")
        raise
    if not keep(result):
        conn.execute("ROLLBACK TO exclusive_write")
    conn.execute("RELEASE exclusive_write")
    return result
