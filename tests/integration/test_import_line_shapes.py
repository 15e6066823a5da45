"""Property: an import line's shape is judged the same by the one test of every field at
once (`EventLines.event_of`, the common case) and by the field-by-field checks that name
a fault: the first never accepts what the second refuses, nor gives another event."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInput
from store.jsonl import FIELDS, EventLines

VALID: dict[str, Any] = {
    "position": 3,
    "event_id": "e3",
    "stream_id": "account-a1",
    "stream_type": "account",
    "version": 2,
    "type": "MoneyDeposited",
    "schema_version": 2,
    "data": {"amount": 100},
    "metadata": {"actor": "ann"},
    "recorded_at": "2026-01-31T09:00:00.000000Z",
    "prev_hash": "a" * 64,
    "hash": "b" * 64,
}

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.floats(allow_nan=False),
    st.sampled_from(["", " ", "x", "2026-01-31T09:00:00Z", "A" * 64, "a" * 63, "0" * 64]),
    st.just({}),
    st.just([]),
)


class _Int(int):
    """An int that is not exactly `int` (never from orjson, but judged alike)."""


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from([*FIELDS, "extra"]), ODD_VALUES, max_size=3),
    dropped=st.sets(st.sampled_from(FIELDS), max_size=2),
    subclassed=st.booleans(),
)
def test_the_one_test_and_the_field_checks_agree(
    changes: dict[str, Any], dropped: set[str], subclassed: bool
) -> None:
    value = {**VALID, **changes}
    for name in dropped:
        value.pop(name, None)
    if subclassed and type(value.get("version")) is int:
        value["version"] = _Int(value["version"])
    lines = EventLines(None)  # type: ignore[arg-type]
    try:
        slow = lines._checked_event(dict(value))
    except InvalidInput as refused:
        with pytest.raises(InvalidInput) as also:
            lines.event_of(dict(value))
        assert also.value.message == refused.message
        return
    assert lines.event_of(dict(value)) == slow
