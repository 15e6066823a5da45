"""How an imported history's recorded events are compared with those the rules emit:
as JSON, type for type (1, 1.0 and true differ), and how a difference is named."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from domain.envelope import PendingEvent, RecordedEvent


def recorded_as_emitted(recorded: Sequence[RecordedEvent], emitted: Sequence[PendingEvent]) -> bool:
    """True when `recorded` are exactly the events the bus would write for `emitted`:
    the same streams, types and schema versions, and data equal as JSON, type for type
    (1, 1.0 and true differ), so that nothing is left to validate or compare."""
    if len(recorded) != len(emitted):
        return False
    for theirs, mine in zip(recorded, emitted, strict=True):
        if (
            theirs.stream_id != mine.stream_id
            or theirs.type != mine.type
            or theirs.stream_type != mine.stream_type
            or theirs.schema_version != mine.schema_version
            or theirs.data != mine.data
        ):
            return False
        try:
            # Equal values whose canonical JSON is equal too: the same types all the way
            # down (1, 1.0 and true dump as 1, 1.0 and true), in C rather than a walk.
            if canonical_data(theirs.data) != canonical_data(mine.data):
                return False
        except orjson.JSONEncodeError:
            return False  # not plain JSON (an int beyond 64 bits): compared field by field
    return True


def canonical_data(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def same_types(a: Any, b: Any) -> bool:
    """Whether two equal JSON values have the same types all the way down."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return all(same_types(value, b[key]) for key, value in a.items())
    if type(a) is list:
        return all(map(same_types, a, b))
    return True


def listing(events: Sequence[RecordedEvent | PendingEvent]) -> str:
    count = len(events)
    items = ", ".join(f"{e.type} on {e.stream_id}" for e in events[:4])
    return f"{count} event{'s' if count != 1 else ''} ({items})"


def short_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, list):
        return "a JSON list"
    if isinstance(value, dict):
        return "a JSON object"
    return type(value).__name__
