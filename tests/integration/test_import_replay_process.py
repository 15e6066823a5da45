"""The import's replay in a second process gives exactly what one process gives.

`store.transfer.replay_process`: a large import forks a child that replays the rules
while the load chains and writes. The property: for any export, intact or damaged in
any of many ways (its hashes recomputed or not), an import with the child and one
without accept the same history into the same head, or refuse it with the very same
message, leaving the store as it was. Then: the child is used by default only for a
large input, its failure refuses the import with one line and writes nothing, and it
leaves no process or file descriptor behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import store.transfer.importer as importer
import store.transfer.replay_process as replay_process
from domain.envelope import GENESIS_HASH, Head, PendingEvent
from domain.errors import InvalidInput
from domain.history_check import HistoryCheck
from domain.ledger.demo import generate_demo
from domain.ledger.description import LEDGER_DOMAIN
from domain.ports import EventStore
from store.hashchain import ChainExtender, EventRejected, event_from_row
from store.memory import InMemoryEventStore
from store.sqlite import SqliteEventStore
from store.transfer.export import export_history
from store.transfer.importer import import_history

_EXPORTS: dict[int, list[bytes]] = {}


def _export(seed: int) -> list[bytes]:
    """A demo history's export (events and records), as lines."""
    if seed not in _EXPORTS:
        source = InMemoryEventStore()
        source.append_bulk(generate_demo(300, seed))
        out = io.BytesIO()
        export_history(source, out)
        _EXPORTS[seed] = out.getvalue().splitlines()
    return list(_EXPORTS[seed])


def _rechained(lines: list[bytes]) -> list[bytes]:
    """The lines with every event's hashes recomputed, where the chain allows it."""
    extender = ChainExtender(Head(0, GENESIS_HASH), "", None, stream_version=lambda _: 0)
    out = []
    for line in lines:
        try:
            value = orjson.loads(line)
            if "record" not in value:
                fields = ("event_id", "stream_id", "stream_type", "version", "type", "data")
                more = ("metadata", "recorded_at", "schema_version")
                pending = PendingEvent(**{name: value[name] for name in (*fields, *more)})
                value = event_from_row(extender.pending(pending)).to_json_dict()
            out.append(orjson.dumps(value))
        except (ValueError, KeyError, TypeError, EventRejected):
            return lines  # not re-chainable: left as damaged as it is
    return out


def _event_line(lines: list[bytes], at: float) -> int:
    events = [i for i, line in enumerate(lines) if b'"record"' not in line[:20]]
    return events[int(at * len(events)) % len(events)]


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        target = event
        for name in path[:-1]:
            target = target[name]
        target[path[-1]] = value

    return change


_CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "amount": lambda e: e["data"].update(amount=int(e["data"].get("amount", 0)) * 3 + 1),
    "amount as list": _set(("data", "amount"), [1]),
    "no data field": lambda e: e["data"].clear(),
    "actor empty": _set(("metadata", "actor"), ""),
    "actor number": _set(("metadata", "actor"), 7),
    "actor escape": _set(("metadata", "actor"), "ann\x1b[2J"),
    "command type": _set(("metadata", "command_type"), "close_account"),
    "command id": _set(("metadata", "command_id"), "another-command"),
    "type": _set(("type",), "AccountClosed"),
    "stream": _set(("stream_id",), "account-nobody"),
    "version": lambda e: e.update(version=e["version"] + 1),
    "time": _set(("recorded_at",), "2026-13-01T00:00:00.000000Z"),
    "hash": _set(("hash",), "0" * 64),
}


def _damage(lines: list[bytes], kind: str, number: int, at: float) -> None:
    """Damage `lines` in place: `kind` at line index `number` (`at`: how far in)."""
    if kind in _CHANGES:
        value = orjson.loads(lines[number])
        _CHANGES[kind](value)
        lines[number] = orjson.dumps(value)
    elif kind == "drop":
        del lines[number]
    elif kind == "swap":
        lines[number], lines[number - 1] = lines[number - 1], lines[number]
    elif kind == "repeat":
        lines.insert(number, lines[number])
    elif kind == "garbage":
        lines[number] = b'{"position": 1, "not json'
    elif kind == "record payload":
        records = [i for i, line in enumerate(lines) if b'"record":"command"' in line]
        value = orjson.loads(lines[records[int(at * len(records)) % len(records)]])
        value["payload"] = 5
        lines[records[int(at * len(records)) % len(records)]] = orjson.dumps(value)


def _damaged(
    seed: int, kind: str, at: float, rechain: bool, then: tuple[str, int] | None = None
) -> bytes:
    """The export damaged by `kind` at `at` of its events and, with `then`, by a second
    kind that many events further (both refusals may fall in one batch of lines)."""
    lines = _export(seed)
    number = _event_line(lines, at)
    _damage(lines, kind, number, at)
    later = [i for i in range(number + 1, len(lines)) if b'"record"' not in lines[i][:20]]
    if then is not None and then[1] <= len(later):
        _damage(lines, then[0], later[then[1] - 1], at)  # the then[1]-th event after
    if rechain:
        lines = _rechained(lines)
    text = b"\n".join(lines) + b"\n"
    if kind == "truncate":
        text = text[: int(at * len(text))]
    return text


def _outcome(make: Callable[[], EventStore], text: bytes, split: bool) -> tuple[Any, ...]:
    store = make()
    try:
        result = import_history(
            store,
            io.BytesIO(text),
            domain=LEDGER_DOMAIN,
            actor="auditor",
            name="h.jsonl",
            replay_process=split,
        )
        head = result.head.position
        # What was written: the refusals, the commands rows and the empty commands too.
        written = (
            store.refusals_between(0, head),
            store.command_rows(1, head),
            store.empty_commands(),
        )
    except InvalidInput as exc:
        assert store.head().position == 0, "a refused import wrote something"
        return ("refused", exc.message)
    finally:
        store.close()
    return ("imported", result.head, result.events, sorted(result.restored.items()), written)


_KINDS = [*_CHANGES, "drop", "swap", "repeat", "garbage", "record payload", "truncate", "none"]


def _same_either_way(
    make: Callable[[], EventStore],
    seed: int,
    kind: str,
    at: float,
    rechain: bool,
    then: tuple[str, int] | None = None,
) -> None:
    """With the child and without, and reading line by line (`PARSE_BATCH` 1, as
    before lines were read in batches): the same outcome."""
    text = _damaged(seed, kind, at, rechain, then)
    alone = _outcome(make, text, split=False)
    beside = _outcome(make, text, split=True)
    batch = importer.PARSE_BATCH
    importer.PARSE_BATCH = 1
    try:
        line_by_line = _outcome(make, text, split=False)
    finally:
        importer.PARSE_BATCH = batch
    assert beside == alone == line_by_line
    if kind == "none" and then is None:
        assert alone[0] == "imported"


_DAMAGES = {
    "seed": st.integers(1, 3),
    "kind": st.sampled_from(_KINDS),
    "at": st.floats(0, 0.999),
    "rechain": st.booleans(),
    "then": st.none() | st.tuples(st.sampled_from(_KINDS[:-2]), st.integers(1, 300)),
}
"""One or two damages of a demo export (see `_damaged`)."""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**_DAMAGES)
@example(seed=1, kind="amount", at=0.5, rechain=True, then=None)  # the rules, not the chain
@example(seed=1, kind="amount as list", at=0.99, rechain=False, then=None)  # data, chain
@example(seed=2, kind="hash", at=0.999, rechain=False, then=None)  # the last event's chain
@example(seed=2, kind="truncate", at=0.5, rechain=False, then=None)
@example(seed=1, kind="amount", at=0.3, rechain=True, then=("garbage", 5))  # one batch
@example(seed=1, kind="hash", at=0.3, rechain=False, then=("amount as list", 3))
def test_the_replay_beside_the_load_refuses_or_accepts_as_one_process_does(
    seed: int, kind: str, at: float, rechain: bool, then: tuple[str, int] | None
) -> None:
    _same_either_way(InMemoryEventStore, seed, kind, at, rechain, then)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**_DAMAGES)
def test_on_sqlite_too(
    seed: int, kind: str, at: float, rechain: bool, then: tuple[str, int] | None
) -> None:
    with tempfile.TemporaryDirectory() as work:
        made: list[int] = []

        def make() -> EventStore:
            made.append(1)
            return SqliteEventStore(Path(work) / f"{len(made)}.db", create=True)

        _same_either_way(make, seed, kind, at, rechain)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(**_DAMAGES)
@example(seed=1, kind="amount", at=0.5, rechain=True, then=None)
@example(seed=1, kind="none", at=0.5, rechain=False, then=None)
@example(seed=1, kind="hash", at=0.3, rechain=False, then=("amount as list", 3))
def test_on_postgresql_too(
    postgres_server: Any,
    seed: int,
    kind: str,
    at: float,
    rechain: bool,
    then: tuple[str, int] | None,
) -> None:
    from store.postgres.store import PostgresEventStore

    def make() -> EventStore:
        return PostgresEventStore(postgres_server.database(), create=True, domain="ledger")

    _same_either_way(make, seed, kind, at, rechain, then)


class _NoJsonHeads:
    """`orjson` for the replay module, with every message head refused as JSON: each
    batch of items goes pickled (`replay_process._send`'s other form)."""

    loads = staticmethod(orjson.loads)

    @staticmethod
    def dumps(value: Any, *args: Any, **kwargs: Any) -> bytes:
        raise TypeError("not JSON")


@pytest.mark.parametrize("kind", ["none", "amount", "hash"])
def test_batches_sent_pickled_give_the_same_outcome(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    text = _damaged(1, kind, 0.5, kind == "amount", None)
    alone = _outcome(InMemoryEventStore, text, split=False)
    monkeypatch.setattr(replay_process, "orjson", _NoJsonHeads)
    assert _outcome(InMemoryEventStore, text, split=True) == alone


# -- when the child is used, and what it leaves ------------------------------------------


class _Pipe(io.RawIOBase):
    """A source that cannot seek, as standard input from a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def _forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    forked: list[int] = []
    real = replay_process.ReplayChild.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        forked.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(replay_process.ReplayChild, "__init__", counted)
    return forked


@pytest.mark.parametrize("seekable", [True, False])
def test_only_a_large_input_is_replayed_beside_the_load(
    monkeypatch: pytest.MonkeyPatch, seekable: bool
) -> None:
    text = b"\n".join(_export(1)) + b"\n"
    forked = _forks(monkeypatch)
    monkeypatch.setattr("threading.active_count", lambda: 1)  # whatever other tests left
    results = []
    for limit in (len(text) + 1, len(text)):
        monkeypatch.setattr(replay_process, "SPLIT_MIN_BYTES", limit)
        monkeypatch.setattr("store.transfer.importer.SPLIT_MIN_BYTES", limit)
        source = io.BytesIO(text) if seekable else io.BufferedReader(_Pipe(text))
        results.append(
            import_history(InMemoryEventStore(), source, domain=LEDGER_DOMAIN, actor="a")
        )
    assert forked == [1]  # the second, at the limit
    first, second = results
    # The same head and the same file digest: the bytes read ahead were all read once.
    assert (first.head, first.record.sha256) == (second.head, second.record.sha256)


def test_a_process_with_other_threads_does_not_fork_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fork copies any lock another thread holds: by default, only a process with
    one thread forks (the CLI's, when it imports)."""
    import threading

    text = b"\n".join(_export(1)) + b"\n"
    forked = _forks(monkeypatch)
    monkeypatch.setattr("store.transfer.importer.SPLIT_MIN_BYTES", 1)
    results = []
    for threads in (2, 1):
        monkeypatch.setattr(threading, "active_count", lambda count=threads: count)
        results.append(
            import_history(InMemoryEventStore(), io.BytesIO(text), domain=LEDGER_DOMAIN, actor="a")
        )
    assert forked == [1]  # with one thread only
    assert results[0].head == results[1].head


def test_a_child_that_fails_refuses_the_import_in_one_line_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(self: Any, *args: Any, **kwargs: Any) -> None:
        raise MemoryError("no room")

    monkeypatch.setattr(HistoryCheck, "offer", broken)  # the child inherits it
    store = SqliteEventStore(tmp_path / "a.db", create=True)
    text = b"\n".join(_export(1)) + b"\n"
    with pytest.raises(InvalidInput) as caught:
        import_history(
            store, io.BytesIO(text), domain=LEDGER_DOMAIN, actor="a", replay_process=True
        )
    assert caught.value.message == (
        "the import's replay stopped unexpectedly (MemoryError: no room); nothing was imported"
    )
    assert store.head().position == 0
    store.close()


def test_only_the_importing_process_tells_the_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child reads, the load tells how far: a progress line is drawn by one process
    (the child, drawing too, would draw every line twice on the terminal)."""
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 50)
    text = b"\n".join(_export(1)) + b"\n"
    read_fd, write_fd = os.pipe()

    def progress(events: int, done: int) -> None:
        os.write(write_fd, b"%d %d\n" % (os.getpid(), events))

    try:
        import_history(
            InMemoryEventStore(), io.BytesIO(text), domain=LEDGER_DOMAIN, actor="a",
            progress=progress, replay_process=True,
        )  # fmt: skip
    finally:
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as told:
            calls = told.read().split(b"\n")[:-1]
    assert calls, "the import is long enough to tell its progress"
    assert {int(call.split()[0]) for call in calls} == {os.getpid()}


def test_the_child_leaves_no_process_and_no_descriptor_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    children: list[int] = []
    real = replay_process.ReplayChild.__init__

    def kept(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        children.append(self.pid)

    monkeypatch.setattr(replay_process.ReplayChild, "__init__", kept)
    text = b"\n".join(_export(2)) + b"\n"
    before = set(os.listdir("/proc/self/fd"))
    for damage in (None, "amount", "hash"):
        data = text if damage is None else _damaged(2, damage, 0.3, rechain=damage == "amount")
        with contextlib.suppress(InvalidInput):  # two are refused: the child is done with
            import_history(
                InMemoryEventStore(), io.BytesIO(data), domain=LEDGER_DOMAIN, actor="a",
                replay_process=True,
            )  # fmt: skip
    assert set(os.listdir("/proc/self/fd")) == before
    assert len(children) == 3
    for pid in children:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # waited for already: not even a zombie is left


# -- the command, through a pipe ---------------------------------------------------------


def test_import_from_a_pipe_replays_beside_the_load_and_refuses_one_line(tmp_path: Path) -> None:
    """`eventscope export | eventscope import -` of 9,000 events (past the 4 MiB at which
    the child is used): the same head; a damaged copy refused in one line, exit 2, with
    the message a single process gives, and nothing written."""
    import subprocess
    import sys

    from tui.cli import main

    source, dump = tmp_path / "source.db", tmp_path / "source.jsonl"
    assert main(["--db", str(source), "demo", "--events", "9000", "--no-open"]) == 0
    assert main(["--db", str(source), "export", str(dump)]) == 0
    text = dump.read_bytes()
    assert len(text) >= replay_process.SPLIT_MIN_BYTES
    lines = text.splitlines()
    number = _event_line(lines, 0.9)
    value = orjson.loads(lines[number])
    value["data"]["amount"] = [1]
    lines[number] = orjson.dumps(value)
    damaged = b"\n".join(_rechained(lines)) + b"\n"
    alone = SqliteEventStore(tmp_path / "alone.db", create=True)
    with alone, pytest.raises(InvalidInput) as single:
        import_history(
                alone, io.BytesIO(damaged), domain=LEDGER_DOMAIN, actor="a", name="stdin",
                replay_process=False,
            )  # fmt: skip
    command = [sys.executable, "-m", "tui"]
    for data, target in ((text, "copy.db"), (damaged, "damaged.db")):
        done = subprocess.run(
            [*command, "--db", str(tmp_path / target), "import", "-"],
            input=data,
            capture_output=True,
            timeout=300,
        )
        if data is text:
            assert done.returncode == 0, done.stderr
            with SqliteEventStore(source) as a, SqliteEventStore(tmp_path / target) as b:
                assert a.head() == b.head()
        else:
            assert done.returncode == 2
            assert done.stderr.decode().strip().splitlines() == [
                f"eventscope: error: {single.value.message}"
            ]
            with SqliteEventStore(tmp_path / target, create=True) as b:
                assert b.head().position == 0
