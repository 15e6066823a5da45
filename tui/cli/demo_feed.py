"""The demo history generated in a child process, feeding the load in this one.

Generating a demo event costs about as much CPU as loading it (the chain, the Merkle
tree, the commands rows, SQLite), and each is one Python thread's work. So `eventscope
demo` generates in a child process (the generator's own passes: learning the end, then
the history moved to end there, `domain.demo_timing.ending_at`) and loads what it sends
here, so that the two use two cores. What is generated and loaded is exactly what one
process would write, byte for byte: only where the work runs changes.

Items travel in batches of plain tuples, pickled, through a one-way pipe (pickle reads
a batch back in 1.9 µs an event against 3.3 µs for `marshal`, since it keeps the
metadata a command's events share once; the reading side is the busier one). Only our
own child writes to that pipe, so unpickling it trusts nothing from outside. The pipe
is bounded by the OS, so the child never runs far ahead and nothing is spooled.

The child is forked (where the platform can), so a plug-in's generator needs no
pickling; it touches nothing of this process's store. If this process stops reading
(an error in the load, Ctrl-C), the child is killed; if this process dies, the child's
next write fails on the broken pipe and it ends.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import traceback
from collections.abc import Generator, Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from domain.demo_timing import Generate, ending_at
from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput

BATCH = 2_000
"""Items per message: large enough that the pipe's per-message cost vanishes, small
enough that the first events reach the load at once."""

_EVENT, _REFUSAL, _FAILED = 0, 1, 2


def history_in_child(
    generate: Generate, events: int, seed: int, end: datetime, *, batch: int = BATCH
) -> Generator[PendingEvent | Refusal, None, None]:
    """`ending_at(generate, events, seed, end)`, generated in a child process.

    Yields the same items in the same order. A generator's `InvalidInput` is raised
    here as `InvalidInput`; any other failure of the child as a `RuntimeError` naming
    it. Closing the iterator early kills the child.
    """
    context = (
        multiprocessing.get_context("fork")
        if "fork" in multiprocessing.get_all_start_methods()
        else multiprocessing.get_context("spawn")
    )
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_generate_into,
        args=(sending, generate, events, seed, end, batch),
        name="eventscope-demo-generator",
        daemon=True,
    )
    child.start()
    sending.close()  # only the child writes: EOF here when it ends
    try:
        yield from _received(receiving)
    finally:
        receiving.close()
        if child.is_alive():
            child.kill()
        child.join()


def _received(receiving: Connection) -> Iterator[PendingEvent | Refusal]:
    while True:
        try:
            message = receiving.recv_bytes()
        except EOFError:
            raise RuntimeError(
                "the demo generator's process ended before the history was complete"
            ) from None
        batch: list[tuple[Any, ...]] = pickle.loads(message)
        if not batch:  # the end
            return
        for row in batch:
            kind = row[0]
            if kind == _EVENT:
                yield PendingEvent(*row[1:])
            elif kind == _REFUSAL:
                yield Refusal(*row[1:])
            else:
                _raise_failure(row)


def _raise_failure(row: tuple[Any, ...]) -> None:
    _, invalid, text = row
    if invalid:
        raise InvalidInput(text)
    raise RuntimeError(f"the demo generator failed in its process: {text}")


def _generate_into(
    sending: Connection, generate: Generate, events: int, seed: int, end: datetime, size: int
) -> None:
    """The child: generate, send batches, then an empty batch for the end."""
    batch: list[tuple[Any, ...]] = []
    try:
        for item in ending_at(generate, events, seed, end):
            if isinstance(item, PendingEvent):
                batch.append(
                    (
                        _EVENT, item.event_id, item.stream_id, item.stream_type, item.version,
                        item.type, item.data, item.metadata, item.recorded_at,
                        item.schema_version, item.command,
                    )
                )  # fmt: skip
            else:
                batch.append(
                    (
                        _REFUSAL, item.recorded_at, item.actor, item.command_id,
                        item.command_type, item.command, item.reason, item.code,
                        item.at_position, item.id,
                    )
                )  # fmt: skip
            if len(batch) >= size:
                sending.send_bytes(_packed(batch))
                batch = []
        if batch:
            sending.send_bytes(_packed(batch))
        sending.send_bytes(_packed([]))
    except (BrokenPipeError, KeyboardInterrupt):
        return  # the reader is gone (it failed, was stopped, or died): nothing to do
    except InvalidInput as exc:
        _send_failure(sending, (_FAILED, True, exc.message))
    except Exception:
        _send_failure(sending, (_FAILED, False, traceback.format_exc(limit=5)))


def _send_failure(sending: Connection, row: tuple[Any, ...]) -> None:
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        sending.send_bytes(_packed([row]))


def _packed(batch: list[tuple[Any, ...]]) -> bytes:
    return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
