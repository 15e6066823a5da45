"""Property: the import takes a well-formed command record at once (`_Import._record`)
exactly as its field-by-field checks do (`_Import._checked_record`): the same pending
command, the same records kept and counted, the same refusals with the same messages."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.history_check import HistoryCheck
from domain.ledger.description import LEDGER_DOMAIN
from store.jsonl import EventLines
from store.transfer.importer import _Import
from store.transfer.records import COMMAND_FIELDS, RECORD

_TEXT = st.one_of(
    st.sampled_from(["c1", "c2", "deposit", "ann", "2026-01-31T09:00:00.000000Z"]),
    st.sampled_from(["", " "]),
    st.sampled_from(["a\x00", "\u202eann", "Zoë", "t\tab", "e\u0301"]),  # unsafe, or not ASCII
    st.none(),
    st.integers(0, 2),
    st.booleans(),
    st.just(["c1"]),
)
_PAYLOAD = st.one_of(
    st.none(), st.just({}), st.just({"amount": "1.00"}), st.just([]), st.just("x"), st.just(1)
)
_COMMAND = st.fixed_dictionaries(
    {
        RECORD: st.sampled_from(["command", "command", "command", "bookmark", "other", 1]),
        "command_id": st.one_of(st.sampled_from(["c1", "c2", "c3"]), _TEXT),
        "command_type": _TEXT,
        "payload": _PAYLOAD,
        "actor": _TEXT,
        "recorded_at": _TEXT,
    }
)


@st.composite
def _records(draw: st.DrawFn) -> dict[str, Any]:
    value = dict(draw(_COMMAND))
    for name in draw(st.sets(st.sampled_from(COMMAND_FIELDS), max_size=1)):
        del value[name]
    if draw(st.booleans()) and draw(st.booleans()):
        value["extra"] = 1
    return value


def _state() -> _Import:
    lines = EventLines(io.BytesIO(b""), name="f")
    return _Import(lines, HistoryCheck(LEDGER_DOMAIN.model, None), 0, "f")


def _outcome(take: Any, value: dict[str, Any]) -> object:
    try:
        return take(value)
    except InvalidInput as exc:
        return exc.message


_GOOD = {
    RECORD: "command",
    "command_id": "c1",
    "command_type": "deposit",
    "payload": None,
    "actor": "ann",
    "recorded_at": "t",
}


@settings(max_examples=400, deadline=None)
@given(st.lists(_records(), max_size=6))
@example([_GOOD, _GOOD])  # a second record of one command
@example([_GOOD, {**_GOOD, "command_id": "c2", "payload": []}])
@example([{**_GOOD, "actor": ""}])
@example([{**_GOOD, "actor": "\u202eann"}])  # refused as the field checks refuse it
@example([{**_GOOD, "actor": "Zoë"}])  # safe, not ASCII: the field checks take it
def test_a_command_record_is_taken_at_once_as_field_by_field(values: list[dict[str, Any]]) -> None:
    quick, checked = _state(), _state()
    for line, value in enumerate(values, start=1):
        quick.lines.line = checked.lines.line = line
        assert _outcome(quick._record, dict(value)) == _outcome(checked._checked_record, value)
        assert quick.pending == checked.pending
        assert quick.empty_commands == checked.empty_commands
        assert quick.command_records == checked.command_records
        assert quick.restored == checked.restored


def test_a_command_record_with_text_no_command_could_record_is_refused() -> None:
    """Control, bidi or invisible characters in a command record's texts (which the bus
    refuses on entry, and PostgreSQL text cannot hold as NUL) are refused by either
    path, naming the field; safe text that is not ASCII is taken."""
    for name in ("command_id", "command_type", "actor", "recorded_at"):
        for bad in ("a\x00", "\u202eann", "t\tab", "x\u200b"):
            value = {**_GOOD, name: bad}
            for take in (_state()._record, _state()._checked_record):
                message = _outcome(take, value)
                assert isinstance(message, str), (name, bad)
                assert f"command record: {name} contains control, bidi or invisible" in message
        for take in (_state()._record, _state()._checked_record):
            assert _outcome(take, {**_GOOD, name: "Zoë"}) is None
