"""How a decoded aux chunk is kept in a chunk cache, and copied out of it cheaply.

A restore (`domain.snapshots.decode_states`) hands the caller states of its own, so a
chunk kept decoded in a cache (shared by every later restore) must be copied before a
fold changes it. `copy_json` copies anything, but walks every value in Python: for a
chunk of an aux map such as `account -> [currency, status]` it costs about three times
what parsing the chunk's JSON again costs. Most aux chunks are much simpler, and that
is known once, when the chunk enters the cache:

- `SharedScalars`: every value is a JSON scalar (str, int, float, bool, None), which
  nothing can change in place: a restore shares them (one `dict.update`, no copy).
  Found from the chunk's JSON bytes alone: no `{` after the first byte and no `[`
  at all means no nested container (a string holding a bracket only makes the test
  fail, which falls back to a copy: never the other way round).
- `SharedContainers`: every value is a list or dict of scalars: a restore copies each
  value (one level deep is all the way down). Lists are kept as tuples: a tuple of
  scalars is dropped from the cyclic collector's lists at its first young collection
  and a list never is, so on the 1M demo the cache's ~26,000 `[currency, status]`
  pairs were 40% of what every full collection walked (and what set it off).
- anything else stays a plain dict and is copied by `copy_json`.

Rows chunks are not shaped: a row is always copied (`dict(row)`), because folds
assign a row's fields in place.
"""

from __future__ import annotations

from typing import Any

from domain.projection import copy_json

_SCALARS = (str, int, float, bool, type(None))


class SharedScalars(dict[str, Any]):
    """A cached chunk whose values are all scalars: shared by restores, never changed."""


class SharedContainers(dict[str, Any]):
    """A cached chunk whose values are all lists or dicts of scalars."""


def shared_form(raw: bytes, chunk: dict[str, Any]) -> dict[str, Any]:
    """What a cache keeps of the aux chunk `chunk` (decoded from the JSON `raw`): a copy
    sharing nothing mutable with `chunk`, which stays the caller's."""
    if raw.find(b"{", 1) == -1 and raw.find(b"[") == -1:
        return SharedScalars(chunk)
    for value in chunk.values():
        if type(value) is list:
            items: Any = value
        elif type(value) is dict:
            items = value.values()
        else:
            items = None
        if items is None or not all(isinstance(item, _SCALARS) for item in items):
            copied: dict[str, Any] = copy_json(chunk)
            return copied
    return SharedContainers(
        {key: tuple(value) if type(value) is list else value.copy() for key, value in chunk.items()}
    )


def private_copy(chunk: dict[str, Any]) -> dict[str, Any]:
    """An aux chunk taken from a cache, ready to merge into a dict of the restore's own
    (`target.update`): every container copied, the scalars shared (a `SharedScalars`
    chunk is returned as it is, since merging copies only its references)."""
    kind = type(chunk)
    if kind is SharedScalars:
        return chunk
    if kind is SharedContainers:
        return {
            key: list(value) if type(value) is tuple else value.copy()
            for key, value in chunk.items()
        }
    copied: dict[str, Any] = copy_json(chunk)
    return copied
