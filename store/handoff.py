"""Handing work to a thread of one's own through a bounded queue, when that thread may
stop on an error: the loads' writer thread (`store.postgres.bulk_load`) and the import
child's outbox (`store.transfer.replay_process`)."""

from __future__ import annotations

import queue
import threading
from typing import TypeVar

T = TypeVar("T")


def hand(
    jobs: queue.Queue[T],
    job: T,
    worker: threading.Thread,
    failed: list[BaseException],
    *,
    raising: bool = True,
) -> None:
    """Queue `job` for `worker` (waiting while the queue is full); once the worker has
    stopped, raise the error it stopped on (in `failed`) instead, unless not `raising`."""
    while worker.is_alive():
        try:
            jobs.put(job, timeout=0.05)
            return
        except queue.Full:
            continue
    if failed and raising:
        raise failed[0]
