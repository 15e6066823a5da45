"""An import's replay through the rules in a second process, beside the load.

A large import spends most of its client time on two independent checks of the same
lines: the replay through the domain's rules (`domain.history_check`) and the chain
and the rows the store writes. In one interpreter they take turns. Here the import
forks a child (POSIX `fork`: it inherits the domain and the states already folded)
that reads the very bytes the load reads, handed to it block by block as they are
read (`ReplayChild.feed`), and replays them with the real `HistoryCheck`. The load's
own `_Import` runs with `ChildVerdict` in its place, which replays nothing, and the
transaction only commits once the child has said that the whole history replays.

The refusal is the one a single process would give, in the same order:

- The child reports its first refusal with where it arose (`Point`: the line, and
  whether before the end of the file). The load raises it as soon as it has itself
  gone that far without a refusal of its own (`ChildVerdict.offer`), or at the end,
  where it waits for the verdict after writing its last rows and before its own
  records (`ChildVerdict.verdict`: the child's refusal at the end comes first).
- When the load refuses first (a line's shape, a record, the chain), it stops feeding
  the child and waits: a child refusal that arose earlier in a single process's order
  wins (the replay of a line comes before its chain check); otherwise the load's own
  stands. A chain refusal names an earlier event whose data does not validate first,
  as one process does: the load keeps the command's events since the last decided
  one (`ChildVerdict.decode_offered`), which is the group a `HistoryCheck` holds open.

Nothing the child does is ever written: it only reads and decides. It exits with
`os._exit` (no atexit handler, no flush of the buffers it inherited) and is waited for
(killed first when no longer needed) whatever happens to the import.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import select
import signal
import struct
import threading
from collections.abc import Callable
from typing import Any

import orjson

from domain.envelope import RecordedEvent
from domain.errors import InvalidInput
from domain.history_check import HistoryCheck, HistoryRefused, decode_event
from domain.model import DomainModel
from store.hashchain import EventRejected
from store.jsonl import EventLines

SPLIT_MIN_BYTES = 4 << 20
"""Imports at least this large replay in a second process (when the machine has two
processors or more): a fork and its pipes cost a few milliseconds, which an import of
about 8,000 events and more wins back."""

POLL_EVERY = 1024
"""Events the load offers between two looks for the child's verdict."""

_HEADER = struct.Struct("<I")
AHEAD_BYTES = 32 << 20
"""How far the load may read ahead of the child (bytes queued for it at most)."""

_PIPE_BYTES = 1 << 20
"""The data pipe's capacity asked for (Linux): the load runs up to a megabyte ahead."""

Point = tuple[int, int]
"""Where in a single process's order a refusal arose: (line, 0) while that line is
read, replayed and chained (a line's replay comes before its chain, so the child's
refusal at a line wins over the load's at the same line), (line, 1) after the last."""


def explain(exc: InvalidInput, check: Any, refused: Callable[[Any], InvalidInput]) -> InvalidInput:
    """The import's refusal for `exc`: a chain refusal (`EventRejected`) names an
    offered event whose data does not validate first, then its own event's line
    (`refused` maps an index to its line); any other refusal already names its line."""
    if not isinstance(exc, EventRejected):
        return exc
    try:
        check.decode_offered()
    except HistoryRefused as invalid:
        return refused(invalid)
    return refused(exc)


class _Cut(Exception):
    """The load stopped feeding before the end of the file."""


class _FramedReader(io.RawIOBase):
    """The child's side of the data pipe: length-prefixed blocks, then an empty one at
    the end of the file; the pipe closing without it is a cut (`_Cut`)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._left = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _exactly(self, size: int) -> bytes:
        parts: list[bytes] = []
        while size:
            part = os.read(self._fd, size)
            if not part:
                raise _Cut
            parts.append(part)
            size -= len(part)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        if self._done:
            return 0
        if not self._left:
            (self._left,) = _HEADER.unpack(self._exactly(_HEADER.size))
            if not self._left:
                self._done = True
                return 0
        data = os.read(self._fd, min(len(buffer), self._left))
        if not data:
            raise _Cut
        size = len(data)
        buffer[:size] = data
        self._left -= size
        return size


def _replay(
    fd: int, check: HistoryCheck, make: Callable[[EventLines], Any], name: str, max_line: int
) -> list[Any]:
    """The child's work: replay the fed lines; its verdict as a JSON-able list."""
    reader = io.BufferedReader(_FramedReader(fd), 1 << 16)
    lines = EventLines(reader, name=name, max_line_bytes=max_line)
    state = make(lines)
    try:
        for _ in state.items():
            pass
    except _Cut:
        return ["cut"]
    except InvalidInput as exc:
        return ["refused", *state.point(), explain(exc, check, state.refused).message]
    return ["ok"]


class _Feeder:
    """Writes the blocks the load reads into the child's data pipe, from a thread of its
    own. The load hands a block over and goes on (it waits only when `AHEAD_BYTES` are
    queued), and the child is not left waiting while the load is busy elsewhere (writing
    a batch): with the pipe alone, each side waited for the other about a third of the
    time."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._blocks: collections.deque[bytes] = collections.deque()
        self._held = 0
        self._closing = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(
            target=self._run, name="eventscope-replay-feed", daemon=True
        )
        self._thread.start()

    def put(self, data: bytes) -> None:
        """Queue a block (b'': the end of the file)."""
        with self._changed:
            while self._held > AHEAD_BYTES and not self._closing:
                self._changed.wait()
            if not self._closing:
                self._blocks.append(data)
                self._held += len(data)
                self._changed.notify_all()

    def close(self, *, flush: bool) -> None:
        """Send what is queued (`flush`) or drop it, close the pipe, end the thread."""
        with self._changed:
            if not flush:
                self._blocks.clear()
            self._closing = True
            self._changed.notify_all()
        self._thread.join()

    def _run(self) -> None:
        try:
            while True:
                with self._changed:
                    while not self._blocks and not self._closing:
                        self._changed.wait()
                    if not self._blocks:
                        break
                    data = self._blocks.popleft()
                    self._held -= len(data)
                    self._changed.notify_all()
                os.write(self._fd, _HEADER.pack(len(data)))
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
                if not data:
                    break
        except OSError:  # the child has stopped (a broken pipe): its verdict says why
            pass
        finally:
            with self._changed:
                self._closing = True
                self._blocks.clear()
                self._changed.notify_all()
            os.close(self._fd)


class ReplayChild:
    """A forked child replaying an import's lines (see the module's text)."""

    def __init__(
        self,
        check: HistoryCheck,
        make: Callable[[EventLines], Any],
        *,
        name: str,
        max_line_bytes: int,
    ) -> None:
        """Fork the child; `make(lines)` builds its `_Import` over `check`."""
        data_read, data_write = os.pipe()
        verdict_read, verdict_write = os.pipe()
        with contextlib.suppress(OSError, AttributeError):
            import fcntl

            fcntl.fcntl(data_write, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            status = 0
            try:
                os.close(data_write)
                os.close(verdict_read)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                try:
                    verdict = _replay(data_read, check, make, name, max_line_bytes)
                except BaseException as exc:  # reported, never raised into the parent's code
                    verdict = ["crashed", f"{type(exc).__name__}: {exc}"]
                os.write(verdict_write, orjson.dumps(verdict))
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(data_read)
        os.close(verdict_write)
        self.pid = pid
        self._verdict_fd = verdict_read
        self._verdict: list[Any] | None = None
        self._feeder = _Feeder(data_write)

    # -- the data ----------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Hand the child a block the load has just read (b'' at the end of the file)."""
        self._feeder.put(data)

    def _stop_feeding(self) -> None:
        """No more lines for the child: what was handed to it is still sent (a cut)."""
        self._feeder.close(flush=True)

    # -- the verdict -------------------------------------------------------------------
    def verdict(self, *, wait: bool) -> list[Any] | None:
        """The child's verdict (waiting for it with `wait`), or None when not yet given."""
        if self._verdict is None:
            if not wait and not select.select([self._verdict_fd], [], [], 0)[0]:
                return None
            chunks: list[bytes] = []
            while chunk := os.read(self._verdict_fd, 1 << 16):
                chunks.append(chunk)
            self._verdict = orjson.loads(b"".join(chunks)) if chunks else ["crashed", "no verdict"]
        return self._verdict

    def refusal_before(self, point: Point) -> InvalidInput | None:
        """The child's refusal when it arose at or before `point` (waiting for it: the
        child gets no more lines), else None."""
        self._stop_feeding()
        return self._refusal(self.verdict(wait=True), point)

    @staticmethod
    def _refusal(verdict: list[Any] | None, point: Point) -> InvalidInput | None:
        if verdict is None:
            return None
        if verdict[0] == "refused":
            return InvalidInput(verdict[3]) if (verdict[1], verdict[2]) <= point else None
        if verdict[0] == "crashed":
            raise InvalidInput(
                f"the import's replay stopped unexpectedly ({verdict[1]}); nothing was imported"
            )
        return None

    def raise_if_refused(self, point: Point, *, wait: bool) -> None:
        """Raise the child's refusal when it arose at or before `point`."""
        verdict = self.verdict(wait=wait)
        refusal = self._refusal(verdict, point)
        if refusal is not None:
            raise refusal
        if wait and verdict is not None and verdict[0] != "ok":
            raise InvalidInput("the import's replay stopped before the end; nothing was imported")

    def close(self) -> None:
        """Stop the child (when it still runs) and wait for it."""
        if self._verdict is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self._feeder.close(flush=False)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self._verdict_fd)


class ChildVerdict:
    """The load's stand-in for `HistoryCheck` while a `ReplayChild` replays.

    It replays nothing. It keeps the events of the command being offered (the group a
    `HistoryCheck` would hold open, for `decode_offered`), raises the child's refusal
    once the load has gone as far, and `finish` waits for the child's verdict.
    """

    def __init__(self, child: ReplayChild, model: DomainModel) -> None:
        self._child = child
        self._model = model
        self.point: Callable[[], Point] = lambda: (0, 0)
        """Where the load is (`_Import.point` of the load's own state, set once made)."""
        self._count = 0
        self._command_id: Any = None
        self._open: list[tuple[RecordedEvent, int]] = []

    def offer(self, event: RecordedEvent, payload: dict[str, Any] | None = None) -> None:
        index = self._count
        self._count += 1
        command_id = event.metadata.get("command_id") if type(event.metadata) is dict else None
        if command_id != self._command_id or not self._open:
            self._command_id = command_id
            self._open = []
        self._open.append((event, index))
        if index % POLL_EVERY == 0:
            self._child.raise_if_refused(self.point(), wait=False)

    def decode_offered(self) -> None:
        for event, index in self._open:
            try:
                decode_event(self._model, event)
            except InvalidInput as exc:
                raise HistoryRefused(exc.message, index) from None

    def finish(self) -> None:
        """The lines are all offered: a refusal the child has already given is raised;
        the load waits for its verdict only after writing its last rows (`verdict`)."""
        self._open = []
        self._child.raise_if_refused(self.point(), wait=False)

    def verdict(self) -> None:
        """Wait for the child's verdict on the whole file; raise its refusal."""
        self._child.raise_if_refused(self.point(), wait=True)
