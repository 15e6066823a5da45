"""Projectors in other processes: read models follow a real writer and survive a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from projector_support import (
    assert_same_states,
    ledger_projector,
    new_store,
    open_store,
    persisted,
    replayed,
)

SUPPORT = Path(__file__).with_name("projector_support.py")
ROOT = Path(__file__).parents[2]


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(SUPPORT.parent)])}
    return subprocess.Popen(
        [sys.executable, str(SUPPORT), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def started_following(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "following"


def test_a_following_projector_process_keeps_up_with_writer_processes(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    db = tmp_path / "ledger.db"
    new_store(db).close()
    follower = start("follow", str(db), "5")
    processes.append(follower)
    started_following(follower)
    writers = [start("write", str(db), "100", str(seed)) for seed in (1, 2)]
    processes.extend(writers)

    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors
    store = open_store(db)
    head = store.head().position
    # How many commands the rules accept depends on how the two writers interleave
    # (e.g. who opens an account first); enough happened to exercise the follower.
    assert head > 20
    reader = ledger_projector(store)
    assert reader.wait_for(head, timeout=60)
    follower.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
    _, errors = follower.communicate(timeout=30)

    assert follower.returncode == 0, errors
    assert_same_states(persisted(reader), replayed(store))
    assert reader.status().lease_owner is None  # released on the way out
    store.close()


def test_when_the_leading_process_dies_another_takes_over_after_its_lease(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    db = tmp_path / "ledger.db"
    new_store(db).close()
    first = start("follow", str(db), "0.5")
    processes.append(first)
    started_following(first)
    store = open_store(db)
    reader = ledger_projector(store)
    writer = start("write", str(db), "60", "3")
    processes.append(writer)
    writer.communicate(timeout=120)
    assert reader.wait_for(store.head().position, timeout=60)
    second = start("follow", str(db), "0.5")
    processes.append(second)
    started_following(second)
    leader = reader.status().lease_owner
    assert leader is not None and leader.split(":")[1] == str(first.pid)

    first.kill()  # kill -9: no release, the lease must lapse
    first.communicate(timeout=30)
    writer = start("write", str(db), "60", "4")
    processes.append(writer)
    writer.communicate(timeout=120)

    assert reader.wait_for(store.head().position, timeout=60)
    owner = reader.status().lease_owner
    assert owner is not None and owner.split(":")[1] == str(second.pid)
    assert_same_states(persisted(reader), replayed(store))
    store.close()
