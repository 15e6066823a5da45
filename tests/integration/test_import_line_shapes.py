"""Property: an import line's shape is judged the same by the one test of every field at
once (`EventLines.event_of`, the common case) and by the field-by-field checks that name
a fault: the first never accepts what the second refuses, nor gives another event."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import orjson
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.history_check import HistoryCheck
from domain.ledger.description import LEDGER_DOMAIN
from store.jsonl import FIELDS, EventLines
from store.transfer.importer import _Import

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
    _agrees_with_the_checks(value)


# Times and hashes near their forms: a character short or long, a digit where a letter
# goes, a "Z" that could end a time one character short when the texts are joined.
_TIME_PARTS = st.sampled_from(["2026-01-31T09:00:00.000000", "2026-01-31T09:00:00.00000", ""])
_NEAR_TIME = st.builds(
    lambda head, tail: head + tail, _TIME_PARTS, st.sampled_from(["Z", "ZZ", "", "0Z", "z"])
)
_NEAR_HASH = st.builds(
    lambda head, body, tail: head + body + tail,
    st.sampled_from(["", "Z", "0", "a", "A", "\n"]),
    st.text(alphabet="0123456789abcdefZ", min_size=62, max_size=65),
    st.sampled_from(["", "0", "f", "g", "\n"]),
)


@settings(max_examples=400, deadline=None)
@given(moment=_NEAR_TIME, prev_hash=_NEAR_HASH, digest=_NEAR_HASH)
@example("2026-01-31T09:00:00.00000", "Z" + "a" * 64, "b" * 64)  # joined, they match
@example("2026-01-31T09:00:00.000000Z", "a" * 63, "Z" + "b" * 64)
@example("2026-01-31T09:00:00.000000Z", "a" * 65, "b" * 63)
def test_the_time_and_both_hashes_are_matched_at_once_as_one_by_one(
    moment: str, prev_hash: str, digest: str
) -> None:
    """`event_of` matches the time and the two hashes in one go: it refuses and accepts
    what their checks one by one (`_checked_event`) do, with the same message."""
    value = {**VALID, "recorded_at": moment, "prev_hash": prev_hash, "hash": digest}
    _agrees_with_the_checks(value)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)
_LINE = st.one_of(
    _JSON.map(orjson.dumps),
    st.binary(max_size=12).filter(lambda raw: b"\n" not in raw),
    st.sampled_from([b"{", b"[1,", b'"x', b"nan", b"{}", b"[]", b"\xff{}", b'{"a":1}x']),
)


@settings(max_examples=300, deadline=None)
@given(raw=_LINE)
def test_an_import_reads_each_line_as_object_of_does(raw: bytes) -> None:
    """The import's reading loop parses a line itself (orjson, a dict) and leaves any
    other line to `EventLines.object_of`: the refusal of a line that is no JSON object
    is the one `object_of` gives."""
    assume(raw.strip() and b"\0" not in raw and not raw.startswith(b"\xef\xbb\xbf"))
    lines = EventLines(io.BytesIO(raw + b"\n"), name="f")
    state = _Import(lines, HistoryCheck(LEDGER_DOMAIN.model, None), 0, "f")
    judge = EventLines(io.BytesIO(b""), name="f")
    judge.line = 1
    try:
        judge.object_of(raw + b"\n")
    except InvalidInput as refused:
        with pytest.raises(InvalidInput) as also:
            list(state.items())
        assert also.value.message == refused.message
        return
    with contextlib.suppress(InvalidInput):  # a JSON object: any later check may refuse it
        list(state.items())


def _agrees_with_the_checks(value: dict[str, Any]) -> None:
    """`event_of` accepts what `_checked_event` (the field-by-field checks) accepts, as
    the same event, and refuses what it refuses, in the same words."""
    lines = EventLines(None)  # type: ignore[arg-type]
    try:
        slow = lines._checked_event(dict(value))
    except InvalidInput as refused:
        with pytest.raises(InvalidInput) as also:
            lines.event_of(dict(value))
        assert also.value.message == refused.message
        return
    assert lines.event_of(dict(value)) == slow


_ID_CHARACTERS = st.sampled_from(
    ["a", "-", "7", " ", "\t", "\x00", "\x7f", "\u202e", "\u200b", "é", "e\u0301", "日", "\n"]
)


@settings(max_examples=300, deadline=None)
@given(event_id=st.lists(_ID_CHARACTERS, max_size=6).map("".join), long=st.booleans())
@example(event_id="\u202eabc", long=False)  # a bidi override
@example(event_id="a", long=True)  # 201 characters
@example(event_id="   ", long=False)
def test_an_event_id_is_held_to_the_rule_of_the_metadata_ids(event_id: str, long: bool) -> None:
    """An event id is the one text of an event its replay does not compare (the bus
    draws it): the one test and the field checks refuse one with control, bidi or
    invisible characters, blank or over 200 characters, as `checked_text` does, and
    agree on everything else."""
    if long:
        event_id = event_id * 201
    value = {**VALID, "event_id": event_id}
    _agrees_with_the_checks(value)
    lines = EventLines(None)  # type: ignore[arg-type]
    if event_id and (
        not event_id.strip()
        or len(event_id) > 200
        or any(c in event_id for c in "\t\x00\x7f\u202e\u200b\n")
    ):
        with pytest.raises(InvalidInput, match="event_id"):
            lines.event_of(dict(value))
    elif event_id:
        assert lines.event_of(dict(value)).event_id == event_id  # kept as written
