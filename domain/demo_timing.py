"""Demo history placed in time: the same history, moved so that it ends at a chosen moment.

A generator starts its calendar at a fixed date, so a history made months ago ends
months before today, and the first live write then squeezes all of it into a corner
of the timeline. `ending_at` moves every time by the same amount so that the last one
is the chosen moment: the events, their order and the gaps between them are
unchanged, only the calendar moves. A history that knows its last time before it is
played (`last_time`, as `domain.demo_engine.DemoRun` does) is played once; any other
is played once to learn when it ends, then again, moved. Pure: the caller says what
"now" is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime

from domain.clock import format_time, parse_time
from domain.envelope import PendingEvent, Refusal

Generate = Callable[[int, int], Iterator[PendingEvent | Refusal]]
"""`generate(events, seed)`: a domain's deterministic demo history (`DomainDescription.demo`)."""


def last_time(generate: Generate, events: int, seed: int) -> str | None:
    """When the history `generate(events, seed)` ends (None: it records nothing)."""
    last: str | None = None
    for item in generate(events, seed):
        # Stored times are fixed-width UTC strings: they sort as they read.
        if last is None or item.recorded_at > last:
            last = item.recorded_at
    return last


def ending_at(
    generate: Generate, events: int, seed: int, end: datetime
) -> Iterator[PendingEvent | Refusal]:
    """`generate(events, seed)` with every time moved so that the last one is `end`."""
    history = generate(events, seed)
    last: str | None = getattr(history, "last_time", "")
    if last == "":  # it cannot tell: a dry run learns it
        last = last_time(generate, events, seed)
    if last is None:
        return
    shift = end - parse_time(last)
    # The events of one command share a time: each distinct time is moved once. Events
    # are rebuilt field by field (`dataclasses.replace` costs three times as much, and a
    # 10M-event demo moves 10M of them).
    text = moved = ""
    for item in history:
        if item.recorded_at != text:
            text = item.recorded_at
            moved = format_time(datetime.fromisoformat(text) + shift)
        if type(item) is PendingEvent:
            yield PendingEvent(
                item.event_id, item.stream_id, item.stream_type, item.version, item.type,
                item.data, item.metadata, moved, item.schema_version, item.command,
            )  # fmt: skip
        else:
            yield dataclasses.replace(item, recorded_at=moved)
