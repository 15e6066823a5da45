"""Group commit's gather: a leader waits for the threads of the previous group to
append again, so writers in a loop share one commit instead of alternating halves."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from store.sqlite import writer_queue
from store.sqlite.writer_queue import WriterQueue


def _table(tmp_path: Path) -> Path:
    db = tmp_path / "gather.db"
    setup = sqlite3.connect(db, isolation_level=None)
    setup.execute("CREATE TABLE t (v INTEGER)")
    setup.close()
    return db


def _insert(value: int) -> Callable[[sqlite3.Connection], int]:
    def body(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        return value

    return body


def test_a_leader_waits_for_the_previous_groups_threads_and_takes_them_along(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _table(tmp_path)
    # The bound is far away: the wait can only end because the second append came.
    monkeypatch.setattr(writer_queue, "GATHER_MAX_S", 3600.0)
    queue = WriterQueue()
    queue._last_group, queue._last_commit_s = 2, 3600.0  # a group of two just committed
    outcomes: dict[int, int] = {}

    def run(value: int) -> None:
        conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        try:
            outcomes[value] = queue.grouped(conn, _insert(value))
        finally:
            conn.close()

    leader = threading.Thread(target=run, args=(1,))
    leader.start()
    with queue._lock:  # the leader is gathering (it holds the turn) before 2 appends
        while not queue._gathering:
            queue._arrived.wait(0.01)
    follower = threading.Thread(target=run, args=(2,))
    follower.start()
    leader.join()
    follower.join()
    assert outcomes == {1: 1, 2: 2}
    assert (queue.groups, queue.grouped_appends) == (1, 2)  # one transaction took both


def test_a_lone_writer_never_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _table(tmp_path)
    queue = WriterQueue()
    queue._last_commit_s = 3600.0

    def never(timeout: float | None = None) -> bool:
        raise AssertionError("a lone writer waited for others")

    monkeypatch.setattr(queue._arrived, "wait", never)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert [queue.grouped(conn, _insert(v)) for v in (1, 2, 3)] == [1, 2, 3]
    finally:
        conn.close()
    assert (queue.groups, queue.grouped_appends) == (3, 3)
