"""Fast paths in the import's hot loop give exactly the answers of the slow paths they
skip: the same values, and the same refusals with the same messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.history_check import METADATA_FIELDS, HistoryCheck, check_metadata
from domain.ledger import money
from domain.ledger.description import LEDGER_DOMAIN
from domain.text import _unsafe, _visible, unsafe_characters

_DIGITS = st.text(alphabet="0123456789", max_size=45)
# Decimal-looking text (the fast path's ground) and its near misses: signs, spaces,
# several points, other scripts' digits, long and empty strings.
_AMOUNT_TEXT = st.one_of(
    st.builds(lambda w, p, f: w + p + f, _DIGITS, st.sampled_from(["", ".", ".."]), _DIGITS),
    st.text(alphabet="0123456789.-+ e٣\n", max_size=45),
    st.text(max_size=45),
)

# The decimal rule without the fast path: `_split` as it was written before it.
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def _regex_split(text: str, *, allow_zero: bool) -> tuple[str, str]:
    if not text.strip():
        raise money.AmountError(f"must not be empty; write a decimal number, {money._EXAMPLE}")
    if len(text) > money._MAX_TEXT_LENGTH:
        raise money.AmountError(
            f"{text[:20]!r}... is too long ({len(text)} characters); amounts are at most "
            f"{money._CAP}"
        )
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise money.AmountError(
            f"{text!r} is not a decimal number; write digits with an optional point, "
            f"{money._EXAMPLE}"
        )
    minus, whole, fraction = match.group(1), match.group(2), (match.group(3) or "")
    fraction = fraction.rstrip("0")
    is_zero = not whole.strip("0") and not fraction
    if minus and not is_zero:
        bound = "0 or more" if allow_zero else "more than 0"
        raise money.AmountError(f"must be {bound}, got {text}")
    if is_zero and not allow_zero:
        raise money.AmountError(f"must be more than 0, got {text}")
    return whole, fraction


def _outcome(split: Callable[..., tuple[str, str]], text: str, allow_zero: bool) -> object:
    try:
        return split(text, allow_zero=allow_zero)
    except money.AmountError as exc:
        return str(exc)


@given(_AMOUNT_TEXT, st.booleans())
@example("0", False)
@example("000.000", True)
@example("1.", False)
@example(".5", False)
@example("1" * 41, False)
@example("1" * 40, False)
def test_split_fast_path_agrees_with_the_decimal_pattern(text: str, allow_zero: bool) -> None:
    assert _outcome(money._split, text, allow_zero) == _outcome(_regex_split, text, allow_zero)


@given(st.text(max_size=30))
@example("plain ascii text")
@example("tab\there")
@example("del\x7f")
@example("bidi \u202e")
def test_unsafe_characters_fast_path_agrees_with_the_pattern(text: str) -> None:
    assert unsafe_characters(text) == [_visible(m) for m in _unsafe().finditer(text)]


_METADATA_VALUE = st.one_of(
    st.sampled_from(["ann", "migration", "withdraw", "20ed25d5-9123-4c41-b7bd-4fead4a3f550"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8),
    st.text(max_size=8),
    st.sampled_from(["", "   ", "x" * 200, "x" * 201, "a\u202eb", "tab\t"]),
    st.integers(),
    st.none(),
)
_METADATA = st.dictionaries(
    st.sampled_from((*METADATA_FIELDS, "other")), _METADATA_VALUE, max_size=6
) | st.fixed_dictionaries({name: _METADATA_VALUE for name in METADATA_FIELDS})


def _metadata_outcome(check: Callable[[dict[str, Any]], None], metadata: dict[str, Any]) -> str:
    try:
        check(metadata)
    except InvalidInput as exc:
        return exc.message
    return "accepted"


@given(st.lists(_METADATA, max_size=8))
def test_history_checks_metadata_as_check_metadata_does(metadatas: list[dict[str, Any]]) -> None:
    """`HistoryCheck._check_metadata` (its one-pass fast test, its memory of accepted
    values) accepts and refuses what `check_metadata` does, with the same message."""
    history = HistoryCheck(LEDGER_DOMAIN.model, None)
    for metadata in metadatas:
        assert _metadata_outcome(history._check_metadata, metadata) == _metadata_outcome(
            check_metadata, metadata
        )
