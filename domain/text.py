"""Untrusted text: the one escaping rule for every output, and the one check where text enters.

Everything that came from the store (event data, metadata, actors, stream ids, refusal
reasons, bookmark names, imported text) was written by someone else. Printed raw, an ESC
or OSC sequence drives the reader's terminal (sets the clipboard, clears the screen, paints
fake lines), a newline forges a whole line of output, and a bidi override reorders what the
reader sees. `escape` makes every such character visible as a backslash escape; `checked_text`
refuses them where text enters (commands, ids, bookmark names), after NFC normalisation.

Backslash itself is escaped (`\\\\`) so that an escape shown is never ambiguous: a stored
`\\x1b` (four characters) prints as `\\\\x1b`, a stored ESC as `\\x1b`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

# Format (Cf) characters of Unicode 15, written out: computing them at import would cost
# the CLI ~100 ms. tests/unit/test_text_escaping.py checks this list against unicodedata.
_FORMAT_RANGES = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
# Other characters that draw nothing but are not Cf: line and paragraph separators,
# surrogates (a lone one in JSON would also crash the terminal's encoder), and the
# Hangul and braille fillers used to fake blank names.
_INVISIBLE_RANGES = (
    (0x2028, 0x2029),
    (0xD800, 0xDFFF),
    (0x115F, 0x1160),
    (0x3164, 0x3164),
    (0xFFA0, 0xFFA0),
    (0x2800, 0x2800),
)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in ranges
    )


_UNSAFE_CLASS = "\\x00-\\x1f\\x7f-\\x9f" + _char_class(_FORMAT_RANGES + _INVISIBLE_RANGES)


@cache
def _unsafe(backslash: bool = False) -> re.Pattern[str]:
    """The unsafe characters (and the backslash, with `backslash`) as a pattern, compiled
    on first use: a command whose texts are all printable ASCII never needs it, and the
    two patterns cost a one-shot `exec` about 2 ms to compile (start-up, issue 14)."""
    return re.compile(f"[{_UNSAFE_CLASS}\\\\]" if backslash else f"[{_UNSAFE_CLASS}]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str, *, backslash: bool = True) -> str:
    """`text` safe to print on a terminal: each unsafe character as a visible escape.

    Escapes C0 and C1 controls, DEL and ESC (`\\x1b`), bidi overrides and isolates
    (`\\u202e`), zero-width and other invisible format characters, line separators, lone
    surrogates, and the backslash itself (`\\\\`). Everything else, accents and CJK
    included, is kept. Use it on every string from the store before it reaches a
    terminal; JSON output needs no call (its own escaping is safe).

    `backslash=False` leaves backslashes alone, for text whose backslashes are already
    escapes (JSON drawn for a person, with `ensure_ascii` off): the bidi and invisible
    characters JSON keeps raw are then shown as `\\u202e`, a valid JSON escape too.
    """
    if text.isascii() and text.isprintable() and not (backslash and "\\" in text):
        return text  # printable ASCII holds no unsafe character
    pattern = _unsafe(backslash)
    if pattern.search(text) is None:
        return text
    return pattern.sub(_visible, text)


def unsafe_characters(text: str) -> list[str]:
    """The unsafe characters of `text` (as `escape` shows them), in order, for messages."""
    if text.isascii() and text.isprintable():
        return []  # printable ASCII holds no unsafe character (every free-text field's case)
    return [_visible(m) for m in _unsafe().finditer(text)]


class UnsafeText(ValueError):
    """Text that may not be recorded: control, bidi or invisible characters, or too long."""


def unsafe_refusal(value: str, field: str) -> str | None:
    """The one line refusing `value` for its control, bidi or invisible characters (each
    named as U+XXXX: a backslash escape would be escaped again by `DomainError`), or None
    when it holds none. `checked_text` says it of text entering; an import of stored
    records (`store.transfer.records`) of their texts."""
    if value.isascii() and value.isprintable():
        return None
    bad = _unsafe().findall(value)
    if not bad:
        return None
    shown = ", ".join(dict.fromkeys(f"U+{ord(c):04X}" for c in bad))
    return (
        f"{field} contains control, bidi or invisible characters ({shown}): "
        "remove them and try again"
    )


def checked_text(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    """`value` normalised to NFC, or `UnsafeText` with one line naming `field` and the fix.

    Refuses control, bidi and invisible characters (they can disguise or reorder what an
    auditor reads), text longer than `max_length` characters, and, when `required`, empty
    or blank text. Use it wherever text enters: command fields, actors, command ids,
    stream ids, bookmark names.
    """
    if value.isascii() and value.isprintable():
        # Printable ASCII (U+0020..U+007E) is already NFC and holds no unsafe character:
        # only the length and blankness are left to check (ids, actors, most text).
        normal = value
    else:
        normal = unicodedata.normalize("NFC", value)
        problem = unsafe_refusal(normal, field)
        if problem is not None:
            raise UnsafeText(problem)
    if len(normal) > max_length:
        raise UnsafeText(f"{field} is {len(normal)} characters long: at most {max_length}")
    if required and not normal.strip():
        raise UnsafeText(f"{field} is empty: give a value")
    return normal


TEXT_ONLY = frozenset((str,))
"""`TEXT_ONLY.issuperset(map(type, values))`: every one of `values` is a str, tested in C
(the metadata of an event, the fields of a command record)."""


def plain_texts(values: Sequence[str], max_length: int) -> bool:
    """True when `checked_text` would take each of `values` as it is, decided at once:
    all printable ASCII, none blank, none longer than `max_length` (ids and actors, the
    common case). False decides nothing: then check each with `checked_text`."""
    joined = "".join(values)
    return (
        bool(values)
        and joined.isascii()
        and joined.isprintable()
        # (When they are short together, each is short: no need to measure each.)
        and (len(joined) <= max_length or max(map(len, values)) <= max_length)
        and all(map(str.strip, values))
    )


# Scripts written together in one name (Japanese mixes kanji and kana; Korean, hanja).
_SAME_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}


def _script(char: str) -> str | None:
    """The script of a letter, from its Unicode name (`CYRILLIC SMALL LETTER A`)."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if not name:
        return None
    script = name.split(" ", 1)[0]
    return _SAME_SCRIPT.get(script, script)


def mixed_scripts(text: str) -> bool:
    """Whether the letters of `text` come from more than one script (`\\u0430nn`: a Cyrillic a).

    A look-alike name mixes scripts to pass for another; digits, punctuation and
    spaces belong to no script and are ignored. The script is the first word of each
    letter's Unicode name (LATIN, CYRILLIC, GREEK, CJK...): coarse, and enough to flag
    a name for a second look, not to prove anything.
    """
    scripts = {script for script in map(_script, text) if script is not None}
    return len(scripts) > 1
