"""One SQLite store shared by many threads: no lock error reaches a caller, and the
connections of ended threads are released."""

from __future__ import annotations

import gc
import os
import threading
import uuid
from pathlib import Path

from domain.envelope import Metadata, NewEvent, StreamAppend
from store import SqliteEventStore
from store.snapshots import SqliteSnapshotStore
from store.sqlite.writer_queue import WriterQueue

WRITERS = 32
APPENDS = 15
READERS = 4


def _append(store: SqliteEventStore, stream: str, expected: int) -> None:
    event = NewEvent("Deposited", {"amount": 1}, event_id=str(uuid.uuid4()))
    store.append(
        [StreamAppend(stream, "account", expected, (event,))],
        Metadata(actor="t", command_id=str(uuid.uuid4()), command_type="deposit", command={}),
    )


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_32_writer_threads_and_4_readers_through_one_store_meet_no_lock_error(
    tmp_path: Path,
) -> None:
    # FULL durability and the default busy timeout: the setting users run with.
    store = SqliteEventStore(tmp_path / "threads.db", create=True)
    errors: list[BaseException] = []
    done = threading.Event()
    reads = [0] * READERS
    start = threading.Barrier(WRITERS + READERS)

    def write(index: int) -> None:
        start.wait()
        try:
            for version in range(APPENDS):  # each thread its own stream: no conflicts
                _append(store, f"account-{index}", version)
        except BaseException as exc:  # anything at all is a failure here
            errors.append(exc)

    def read(index: int) -> None:
        start.wait()
        try:
            while not done.is_set():
                head = store.head().position
                assert len(store.read_all(after=max(0, head - 20), to=head)) == min(head, 20)
                reads[index] += 1
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    readers = [threading.Thread(target=read, args=(i,)) for i in range(READERS)]
    for thread in [*writers, *readers]:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()

    assert errors == []
    total = WRITERS * APPENDS
    assert [e.position for e in store.read_all()] == list(range(1, total + 1))
    for index in range(WRITERS):
        assert [e.version for e in store.read_stream(f"account-{index}")] == list(
            range(1, APPENDS + 1)
        )
    assert store.verify().ok
    assert all(count > 0 for count in reads)
    store.close()


def test_connections_of_ended_threads_are_released(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "short.db", create=True)
    _append(store, "account-a", 0)
    gc.collect()
    baseline = _open_fds()

    def read_once() -> None:
        assert store.head().position == 1

    for _ in range(10):  # 200 threads, 20 alive at a time
        batch = [threading.Thread(target=read_once) for _ in range(20)]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    del batch
    gc.collect()

    # Every connection is closed. Leaked ones held the database and its WAL open, two
    # fds each (400). SQLite itself keeps the database fd of a closed connection while
    # another connection of the process holds the file open (closing it would drop
    # that one's POSIX locks) and reuses it for the next open: so at most one fd per
    # thread alive at once (20) remains, until the store closes.
    assert _open_fds() <= baseline + 20
    assert store._threads.open_count() == 1  # the main thread's
    store.close()
    gc.collect()
    assert _open_fds() <= baseline - 3  # the database, WAL and index of the store: all gone


def test_snapshot_store_connections_of_ended_threads_are_released(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "snap.db", create=True)
    snapshots = SqliteSnapshotStore(tmp_path / "snap.db")
    snapshots.positions("k")
    gc.collect()
    baseline = _open_fds()

    def read_once() -> None:
        assert snapshots.positions("k") == []

    for _ in range(10):
        batch = [threading.Thread(target=read_once) for _ in range(20)]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
    del batch
    gc.collect()
    assert _open_fds() <= baseline + 20  # not 200 threads' worth (see above)
    snapshots.close()
    store.close()


def test_the_writer_queue_serves_threads_in_arrival_order() -> None:
    queue = WriterQueue()
    order: list[int] = []
    arrived: list[int] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with queue.turn():
            first_in.set()
            release_first.wait()
            order.append(0)

    def later(index: int) -> None:
        arrived.append(index)
        with queue.turn():
            order.append(index)

    holder = threading.Thread(target=first)
    holder.start()
    first_in.wait()
    waiting = []
    for index in range(1, 9):
        thread = threading.Thread(target=later, args=(index,))
        thread.start()
        waiting.append(thread)
        while queue.waiting() < index:  # it is in line before the next one starts
            threading.Event().wait(0.001)
    release_first.set()
    for thread in [holder, *waiting]:
        thread.join()
    assert order == [0, *arrived]


def test_a_write_inside_a_write_on_one_thread_does_not_wait_for_itself() -> None:
    queue = WriterQueue()
    with queue.turn(), queue.turn():
        assert queue.waiting() == 0
    with queue.turn():  # and the turn was given back
        pass
