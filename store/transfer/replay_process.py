"""An import's reading and replay in a second process, feeding the load.

A large import spends its client time on two things: reading the lines and replaying
them through the domain's rules (`domain.history_check`), then chaining the rows and
writing them. In one interpreter they take turns. Here the import forks a child (POSIX
`fork`: it inherits the input, the domain and the states already folded) that runs the
import's own reading and replay (`_Import.items()`, unchanged) and sends each item it
yields, in order, through a pipe: each event as the line it read and accepted (with its
command's payload), each refusal record, then the refusal it raised, if any, or at the
end the records the load writes last. The load parses each line again, as the child
did: sending the bytes costs the child (the import's slower side) less than writing its
objects out as JSON once more. The importing process takes those items as if it had read
them itself (`ReplayChild.items`) and loads them (chain, rows, the store's writes).

So the order of everything is a single process's by construction: the child sends an
item only once the rules accepted it (a line is replayed before its row is chained), and
its refusal comes after the last item it accepted, where one process would have raised
it. The load's own refusals (the chain, a clash with stored ids) name an earlier event of
the same command whose data does not validate first, as one process does: the load keeps
the events of the command being loaded (`domain.history_check.OpenCommand`: a
`HistoryCheck` that groups them by its own rule and decides nothing).

The child only reads and decides: it never touches the store. It exits with `os._exit`
(no atexit handler, no flush of the buffers it inherited) and is waited for (killed first
when the import ends early) whatever happens to the import.
"""

from __future__ import annotations

import contextlib
import gc
import operator
import os
import pickle
import queue
import signal
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from domain.envelope import RecordedEvent, Refusal
from domain.errors import InvalidInput
from domain.ports import RecordedItem
from store.handoff import hand
from store.jsonl import FIELDS

SPLIT_MIN_BYTES = 4 << 20
"""Imports at least this large read and replay in a second process (when the machine
has two processors or more): a fork and its pipe cost a few milliseconds, which an
import of about 8,000 events and more wins back."""

OUTBOX_MESSAGES = 32
"""Messages (of `SEND_EVERY` items, ~250 KB) the child may hold beside the pipe's."""

SEND_EVERY = 256
"""Items the child sends together (one message, one write)."""

_HEADER = struct.Struct("<I")
_PIPE_BYTES = 1 << 20
"""The pipe's capacity asked for (Linux): the child may run up to a megabyte ahead."""


_fields_of = operator.itemgetter(*FIELDS)
"""An event line's fields in `RecordedEvent`'s order (`store.jsonl.FIELDS`)."""


def _send(out: _Outbox, message: tuple[Any, ...]) -> None:
    """Send a message. A batch of items, `("items", entries, read, lines)`, goes as a
    JSON head (its entries and `read`) followed by the events' lines as they were read:
    the child sends the bytes it parsed rather than writing its objects out as JSON
    again, and the load parses them as the child did. Anything else (or a head that is
    not JSON after all) is pickled."""
    data = b""
    if message[0] == "items":
        with contextlib.suppress(TypeError):
            head = orjson.dumps(message[1:3])
            data = b"J" + _HEADER.pack(len(head)) + head + message[3]
    if not data:
        data = b"P" + pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    out.put(_HEADER.pack(len(data)) + data)


class _Outbox:
    """The child's messages, written to the pipe by a thread of the child's own: when
    the load falls behind for a moment and the pipe is full, the child goes on reading
    and replaying (up to `OUTBOX_MESSAGES` messages held) instead of waiting."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=OUTBOX_MESSAGES)
        self._failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="eventscope-outbox", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while (data := self._queue.get()) is not None:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
        except BaseException as exc:  # (the load has gone): raised in the child's work
            self._failed.append(exc)

    def put(self, data: bytes | None) -> None:
        """Queue `data` (waiting while `OUTBOX_MESSAGES` are held); raise the writing
        thread's error once it has stopped on one."""
        hand(self._queue, data, self._thread, self._failed)

    def close(self) -> None:
        """Write what is held, then stop the thread."""
        hand(self._queue, None, self._thread, self._failed, raising=False)
        self._thread.join()
        if self._failed:
            raise self._failed[0]


def _produce(
    fd: int, state: Any, finished: Callable[[], dict[str, Any]], read: Callable[[], int]
) -> None:
    """The child's work: send `state.items()` in order, then its end (see the module);
    each batch carries how many bytes of the file were read (`read()`)."""
    # Run in the forked child only: the objects it inherited from the parent live as long
    # as it does, so the collector need not look at them again (`gc.freeze`).
    gc.freeze()
    out = _Outbox(fd)
    try:
        _produce_into(out, state, finished, read)
    finally:
        out.close()


def _produce_into(
    out: _Outbox, state: Any, finished: Callable[[], dict[str, Any]], read: Callable[[], int]
) -> None:
    """`_produce` with its messages queued in `out`. Each event goes as its line number,
    the length of its line and its command's payload (or None), then its line; a
    refusal record as its line number and the refusal."""
    batch: list[tuple[Any, ...]] = []
    raws: list[bytes] = []
    lines = state.lines

    def items() -> tuple[Any, ...]:
        return ("items", batch, read(), b"".join(raws))

    try:
        for item in state.items():
            if type(item) is tuple:
                raw = state.raw
                batch.append((lines.line, len(raw), item[1]))
                raws.append(raw)
            else:
                batch.append((lines.line, item))
            if len(batch) >= SEND_EVERY:
                _send(out, items())
                batch, raws = [], []
    except InvalidInput as exc:
        _send(out, items())
        _send(out, ("refused", exc.message))
        return
    except BaseException as exc:  # reported, never raised into the parent's code
        _send(out, items())
        _send(out, ("crashed", f"{type(exc).__name__}: {exc}"))
        return
    _send(out, items())
    _send(out, ("done", finished()))


class ReplayChild:
    """A forked child reading and replaying an import (see the module's text)."""

    def __init__(
        self,
        state: Any,
        finished: Callable[[], dict[str, Any]],
        read: Callable[[], int],
    ) -> None:
        """Fork the child: it runs `state.items()` (an `_Import`), then sends
        `finished()` (what the load needs of its state to write its records); `read()` is
        how many bytes of the file it has read."""
        read_fd, write_fd = os.pipe()
        with contextlib.suppress(OSError, AttributeError):
            import fcntl

            fcntl.fcntl(write_fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            status = 0
            try:
                os.close(read_fd)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                state.progress = None  # the load tells the progress (`items`)
                _produce(write_fd, state, finished, read)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(write_fd)
        self.pid = pid
        self._fd = read_fd
        self._ended = False
        self.bytes_read = 0
        """How many bytes of the file the child had read when it sent the last items."""
        self.finished: dict[str, Any] = {}
        """What `finished()` gave in the child, once every item has been taken."""

    def _receive(self) -> tuple[Any, ...]:
        header = self._exactly(_HEADER.size)
        if header is None:
            return ("crashed", "it ended without a word")
        (size,) = _HEADER.unpack(header)
        body = self._exactly(size)
        if body is None:
            return ("crashed", "it ended in the middle of a message")
        view = memoryview(body)
        if body[:1] == b"J":
            end = 1 + _HEADER.size + _HEADER.unpack_from(body, 1)[0]
            batch, read = orjson.loads(view[1 + _HEADER.size : end])
            return ("items", batch, read, view[end:])
        message: tuple[Any, ...] = pickle.loads(view[1:])
        return message

    def _exactly(self, size: int) -> bytes | None:
        parts: list[bytes] = []
        while size:
            part = os.read(self._fd, min(size, 1 << 20))
            if not part:
                return None
            parts.append(part)
            size -= len(part)
        return b"".join(parts)

    def items(
        self, load: Any, progress: Callable[[int, int], None] | None, every: int
    ) -> Iterator[RecordedItem]:
        """The child's items, in order, as `_Import.items()` yields them; its refusal
        raised where it raised it. Each event's line is appended to the `load`'s
        `event_lines` (an `_Import` whose check is an `OpenCommand`), and the event
        offered to its check; `progress(events, bytes)` is told every `every` events,
        with the bytes of the file the child had read."""
        event_lines, check = load.event_lines, load.check
        while True:
            message = self._receive()
            kind = message[0]
            if kind == "items":
                self.bytes_read = message[2]
                raws, at = message[3], 0
                for entry in message[1]:
                    if len(entry) == 2:  # a refusal record (as a dict when sent as JSON)
                        refusal = entry[1]
                        yield refusal if type(refusal) is Refusal else Refusal(**refusal)
                        continue
                    line, size, payload = entry
                    # The line the child read and accepted (`EventLines.event_of`): the
                    # same bytes give the same fields.
                    event = RecordedEvent(*_fields_of(orjson.loads(raws[at : at + size])))
                    at += size
                    event_lines.append(line)
                    if progress is not None and len(event_lines) % every == 0:
                        progress(len(event_lines), self.bytes_read)
                    check.offer(event, payload)
                    yield event, payload
            elif kind == "refused":
                self._ended = True
                raise InvalidInput(message[1])
            elif kind == "done":
                self._ended = True
                self.finished = message[1]
                return
            else:
                self._ended = True
                raise InvalidInput(
                    f"the import's replay stopped unexpectedly ({message[1]}); nothing was imported"
                )

    def close(self) -> None:
        """Stop the child (when it still runs) and wait for it."""
        if not self._ended:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self._fd)
