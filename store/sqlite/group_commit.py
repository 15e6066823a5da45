"""Group commit: the appends waiting on the writer queue, in one transaction.

The thread whose turn it is (the leader) runs its own append and those of every
thread waiting behind it in one `BEGIN IMMEDIATE … COMMIT`, each in its own
SAVEPOINT. So each append keeps its own expected-version check, idempotency record
and result, and one append's conflict or refusal rolls back only its savepoint. The
fsync of the one COMMIT covers all of them; no caller learns its result before that
COMMIT returned (a failed COMMIT fails every append of the group).

Across processes SQLite cannot share a commit: each process's group is its own
transaction, and processes take turns on the file's write lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

BEGIN_RETRY_SLEEP = 0.002
"""Seconds between two tries of a `BEGIN IMMEDIATE` refused as busy at once."""
MAX_GROUP = 256
"""Most appends one transaction takes: bounds what one failed COMMIT can fail."""


class Job:
    """One thread's append, handed to whichever thread leads the group."""

    __slots__ = ("done", "error", "keep", "result", "taken", "wake", "work")

    def __init__(
        self, work: Callable[[sqlite3.Connection], Any], keep: Callable[[Any], bool]
    ) -> None:
        self.work = work
        self.keep = keep
        self.wake: threading.Event | None = None
        """Made when the job has to wait (a leader alone needs none); set when the job
        is done, or when its thread's turn came (it leads then)."""
        self.taken = False
        """A leader took it into its group (under the queue's lock)."""
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def outcome(self) -> Any:
        """The work's result, or raise its error."""
        if self.error is not None:
            raise self.error
        return self.result


def begin_immediate(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """`BEGIN IMMEDIATE`, tried again while another process holds the lock.

    SQLite's busy handler waits up to the busy timeout; but some refusals come at once,
    without it (a writer that just reset the WAL, a checkpoint starting). Those are
    tried again until the busy timeout has passed since the first try.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() >= deadline:
                raise
        time.sleep(BEGIN_RETRY_SLEEP)


def run_group(conn: sqlite3.Connection, jobs: Sequence[Job], busy_timeout_ms: int) -> float:
    """Run `jobs` in one transaction on `conn`, a savepoint each; fill in each outcome.

    Returns how many seconds the COMMIT took (the fsync, at FULL), 0 when there was none.

    Never raises for a job's own failure (it is that job's outcome). A failure of the
    transaction itself (BEGIN, COMMIT, a savepoint that cannot be rolled back) becomes
    the outcome of every job that had not failed on its own. An interrupt
    (KeyboardInterrupt) rolls the whole group back and is re-raised here after every
    job has its outcome.
    """
    try:
        begin_immediate(conn, busy_timeout_ms)
    except sqlite3.Error as exc:
        for job in jobs:
            job.error = exc
        return 0.0
    if len(jobs) == 1:  # alone: its own transaction, no savepoint to pay for
        return _run_alone(conn, jobs[0])
    interrupted: BaseException | None = None
    failed: BaseException | None = None
    for job in jobs:
        conn.execute("SAVEPOINT grouped_append")
        try:
            result = job.work(conn)
            kept = job.keep(result)
        except Exception as exc:
            job.error = exc
            kept = False
        except BaseException as exc:  # an interrupt: the whole group goes
            interrupted = exc
            break
        try:
            if not kept:
                conn.execute("ROLLBACK TO grouped_append")
            conn.execute("RELEASE grouped_append")
        except sqlite3.Error as exc:  # the transaction itself is gone (I/O error, full disk)
            failed = exc
            break
        if job.error is None:
            job.result = result
    if interrupted is None and failed is None:
        try:
            started = time.monotonic()
            conn.execute("COMMIT")
            return time.monotonic() - started
        except sqlite3.Error as exc:
            failed = exc
    if conn.in_transaction:
        # A broken connection: the transaction was not committed either way.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
    reason = failed or sqlite3.OperationalError("the group commit was interrupted")
    for job in jobs:
        if job.error is None:
            job.result = None
            job.error = reason
    if interrupted is not None:
        raise interrupted
    return 0.0


def _run_alone(conn: sqlite3.Connection, job: Job) -> float:
    """One job in the transaction `run_group` began: COMMIT, or ROLLBACK on any failure.

    Returns the seconds the COMMIT took (0 for a rollback or a failure)."""
    try:
        result = job.work(conn)
        started = time.monotonic()
        commit = job.keep(result)
        conn.execute("COMMIT" if commit else "ROLLBACK")
        took = time.monotonic() - started if commit else 0.0
    except BaseException as exc:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        job.error = exc
        if not isinstance(exc, Exception):  # an interrupt is this thread's own: re-raise
            raise
        return 0.0
    job.result = result
    return took
