"""Untrusted text: one escaping rule (`domain.text.escape`) and one entry check."""

from __future__ import annotations

import sys
import unicodedata
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput, one_line
from domain.fields import FreeText
from domain.messages import Command, parse_message
from domain.text import UnsafeText, checked_text, escape, mixed_scripts, plain_texts

INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def test_every_control_format_and_separator_character_is_escaped() -> None:
    missed = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in INVISIBLE_CATEGORIES
        and escape(chr(code)) == chr(code)
    ]
    assert missed == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("evil\x1b]52;c;aGk=\x07\x1b[2J", "evil\\x1b]52;c;aGk=\\x07\\x1b[2J"),
        ("ann\nfake line", "ann\\x0afake line"),
        ("stream\rchain ok", "stream\\x0dchain ok"),
        ("abc\u202edcb", "abc\\u202edcb"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("del\x7f", "del\\x7f"),
        ("a\\x1b", "a\\\\x1b"),
        ("Zoë 東京 [bold red]x[/]", "Zoë 東京 [bold red]x[/]"),
    ],
)
def test_escape_makes_each_unsafe_character_visible(raw: str, shown: str) -> None:
    assert escape(raw) == shown


@given(st.text())
def test_escaped_text_holds_no_unsafe_character(text: str) -> None:
    out = escape(text)
    assert all(unicodedata.category(c) not in INVISIBLE_CATEGORIES for c in out)
    out.encode("utf-8")  # no lone surrogate survives (would raise)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_safe_text_without_backslashes_prints_as_it_is(text: str) -> None:
    text = text.replace("\\", "")
    assert escape(text) == text or any(c in text for c in "\u115f\u1160\u3164\uffa0\u2800")


def test_checked_text_normalises_to_nfc() -> None:
    assert checked_text("Zoe\u0308", field="owner", max_length=10) == "Zoë"


@pytest.mark.parametrize("bad", ["a\x1bb", "a\nb", "\u202eabc", "a\u200bb", "a\u2066b"])
def test_checked_text_refuses_control_bidi_and_invisible_characters(bad: str) -> None:
    with pytest.raises(UnsafeText, match="owner contains control, bidi or invisible"):
        checked_text(bad, field="owner", max_length=100)


def test_checked_text_refuses_long_and_blank_text() -> None:
    with pytest.raises(UnsafeText, match="at most 3"):
        checked_text("abcd", field="actor", max_length=3)
    with pytest.raises(UnsafeText, match="empty"):
        checked_text("  ", field="actor", max_length=3)
    assert checked_text("", field="reference", max_length=3, required=False) == ""


def test_checked_text_names_refused_characters_as_code_points() -> None:
    # U+XXXX, not a backslash escape: DomainError escapes its message once more.
    with pytest.raises(UnsafeText, match=r"\(U\+001B, U\+0007\)"):
        checked_text("evil\x1b]52;c;aGk=\x07", field="actor", max_length=100)


def test_one_line_is_escape() -> None:
    for raw in ("ann\nfake", "evil\x1b[2J", "abc\u202edcb", "back\\slash"):
        assert one_line(raw) == escape(raw)
    assert str(InvalidInput("stream a\rchain ok")) == "stream a\\x0dchain ok"


def test_escape_can_leave_backslashes_to_json() -> None:
    assert escape('"a\\n\u202e"', backslash=False) == '"a\\n\\u202e"'


@pytest.mark.parametrize(
    ("name", "mixed"),
    [
        ("ann", False),
        ("\u0430nn", True),  # a Cyrillic a, then Latin
        ("p\u0430ypal", True),
        ("Zoë-2 O'Brien", False),  # accents, digits and punctuation belong to no script
        ("Ελλάδα", False),
        ("東京たろう", False),  # kanji and kana are written together
        ("", False),
    ],
)
def test_mixed_scripts_flags_names_that_mix_scripts(name: str, mixed: bool) -> None:
    assert mixed_scripts(name) is mixed


@given(st.text(alphabet=st.characters(categories=["Ll", "Lu"]), max_size=12))
def test_text_of_one_script_is_never_flagged(text: str) -> None:
    latin = "".join(c for c in text if unicodedata.name(c, "").startswith("LATIN"))
    assert mixed_scripts(latin) is False


class _Note(Command):
    type_name = "note"
    text: Annotated[str, FreeText(10)]
    extra: Annotated[str, FreeText(5, required=False)] = ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"text": "a\nb"},
            r"^invalid note: text: contains control, bidi or invisible characters \(U\+000A\)",
        ),
        ({"text": "ok\r"}, r"\(U\+000D\)"),  # refused, not stripped away
        ({"text": "ab\u202e"}, r"\(U\+202E\)"),
        ({"text": "   "}, r"text: is empty: give a value"),
        ({"text": "x" * 11}, r"text: is 11 characters long: at most 10"),
        ({"text": "ok", "extra": "\u200b"}, r"extra: contains control"),
    ],
)
def test_free_text_fields_refuse_unsafe_text_with_one_line(
    fields: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_message(_Note, fields)


def test_free_text_fields_are_normalised_to_nfc() -> None:
    assert parse_message(_Note, {"text": "Zoe\u0308"}).text == "Zoë"
    assert parse_message(_Note, {"text": "ok"}).extra == ""


@given(
    st.lists(
        st.one_of(
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
            st.text(max_size=12),
        ),
        max_size=5,
    ),
    st.integers(0, 12),
)
def test_plain_texts_holds_only_what_checked_text_takes_unchanged(
    values: list[str], max_length: int
) -> None:
    if plain_texts(values, max_length):
        for value in values:
            assert checked_text(value, field="f", max_length=max_length) == value
    else:
        # Something checked_text would refuse or change, or nothing to check at all.
        def taken(value: str) -> bool:
            try:
                return checked_text(value, field="f", max_length=max_length) == value
            except UnsafeText:
                return False

        plain = all(v.isascii() and v.isprintable() for v in values)
        assert not values or not plain or not all(map(taken, values))
