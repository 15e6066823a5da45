"""Event filters as both stores apply them: exact values, SQLite GLOB patterns, text.

`stream`, `type` and `actor` match exactly, or as a pattern when they hold one of
`*`, `?` or `[`, with SQLite's GLOB rules: case-sensitive; `*` is any run of
characters, `?` exactly one, `[abc]`, `[a-z]` and `[^abc]` one character in (or not
in) a set; `]` first in a set is literal; a `[` that is never closed matches nothing.
The SQLite store compares exact values with `=` so its indexes serve them.

`text` is a case-insensitive substring of the stored JSON text of an event's data or
its metadata (keys included). Case folding is ASCII-only, as SQLite's built-in
`lower()` is, so both stores agree: `ALICE` finds `alice`, but `É` does not find `é`.

The in-memory store matches with `row_matcher`; the SQLite store builds SQL from
`is_glob` and `ascii_lower` and lets SQLite do the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson

from store.hashchain import ChainRow

GLOB_CHARACTERS = frozenset("*?[")

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def is_glob(value: str) -> bool:
    """True when `value` is a GLOB pattern rather than an exact value."""
    return not GLOB_CHARACTERS.isdisjoint(value)


def ascii_lower(text: str) -> str:
    """`text` with A-Z lowered and every other character kept (SQLite's `lower()`)."""
    return text.translate(_ASCII_LOWER)


def glob_regex(pattern: str) -> re.Pattern[str] | None:
    """A regex that fully matches what SQLite's `GLOB pattern` matches.

    None when the pattern can match nothing (a `[` set that is never closed).
    Mirrors `patternCompare` in SQLite's func.c.
    """
    parts: list[str] = []
    i, end = 0, len(pattern)
    while i < end:
        c = pattern[i]
        i += 1
        if c == "*":
            parts.append(".*")
        elif c == "?":
            parts.append(".")
        elif c == "[":
            invert = i < end and pattern[i] == "^"
            if invert:
                i += 1
            members: list[str] = []
            prior: str | None = None
            if i < end and pattern[i] == "]":
                members.append(re.escape("]"))
                i += 1
            closed = False
            while i < end:
                c2 = pattern[i]
                i += 1
                if c2 == "]":
                    closed = True
                    break
                if c2 == "-" and prior is not None and i < end and pattern[i] != "]":
                    high = pattern[i]
                    i += 1
                    # SQLite tests `prior <= c <= high`; a reversed range matches nothing
                    # beyond `prior` itself, which is already a member.
                    if prior <= high:
                        members.append(f"{re.escape(prior)}-{re.escape(high)}")
                    prior = None
                else:
                    members.append(re.escape(c2))
                    prior = c2
            if not closed:
                return None
            parts.append(f"[{'^' if invert else ''}{''.join(members)}]")
        else:
            parts.append(re.escape(c))
    return re.compile("".join(parts), re.DOTALL)


def value_matcher(value: str) -> Callable[[object], bool]:
    """A test for one field: equality, or the GLOB pattern `value` (strings only)."""
    if not is_glob(value):
        return lambda candidate: candidate == value
    regex = glob_regex(value)
    if regex is None:
        return lambda candidate: False
    fullmatch = regex.fullmatch
    return lambda candidate: isinstance(candidate, str) and fullmatch(candidate) is not None


def row_matcher(
    stream: str | None, type_: str | None, actor: str | None, text: str | None
) -> Callable[[ChainRow], bool]:
    """A test on stored chain rows for the given filters (None: no filter on that field)."""
    tests: list[Callable[[ChainRow], bool]] = []
    if stream is not None:
        stream_ok = value_matcher(stream)
        tests.append(lambda row: stream_ok(row[2]))
    if type_ is not None:
        type_ok = value_matcher(type_)
        tests.append(lambda row: type_ok(row[5]))
    if actor is not None:
        actor_ok = value_matcher(actor)
        tests.append(lambda row: actor_ok(_actor(row)))
    if text:
        needle = ascii_lower(text)
        tests.append(lambda row: needle in ascii_lower(row[8]) or needle in ascii_lower(row[9]))
    return lambda row: all(test(row) for test in tests)


def _actor(row: ChainRow) -> object:
    metadata = orjson.loads(row[9])
    return metadata.get("actor") if isinstance(metadata, dict) else None
