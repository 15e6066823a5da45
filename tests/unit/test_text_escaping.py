"""Untrusted text: one escaping rule (`domain.text.escape`) and one entry check."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.text import UnsafeText, checked_text, escape

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
