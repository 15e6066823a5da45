"""Snapshots of projection states: how they are encoded, keyed and kept in memory.

Encoding: the states of all projections as one orjson document
`{name: [rows, aux]}`, zlib-compressed (level 6). JSON because states are JSON by
contract and a snapshot must stay readable across Python versions and by other
tools; orjson because it decodes a ~1 MB state in a few ms; zlib because it shrinks
these repetitive tables 5-6x (the storage goal is <= 25% of the event bytes) and
inflates far faster than orjson parses, so it costs little on the read path.

The key names the projection definitions a snapshot was built with: each
projection's name, class, `version` attribute (if any) and a hash of its module's
source. Changing a projection's code or settings therefore changes the key, and
snapshots built by the old definition are simply never read again (`discard` drops
them). A projection whose output depends on code outside its module should bump its
`version` when that code changes.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import zlib
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from functools import cache

import orjson

from domain.errors import InvalidInput
from domain.ports import Snapshot
from domain.projection import Projection, ProjectionState, StateMap

ENCODING = "orjson+zlib/1"
"""The only encoding written (and read) so far."""

_LEVEL = 6


def encode_states(states: Mapping[str, ProjectionState]) -> bytes:
    """The states as one compressed blob (see the module docstring for the format)."""
    document = {name: [state.rows, state.aux] for name, state in states.items()}
    return zlib.compress(orjson.dumps(document), _LEVEL)


def decode_states(encoding: str, blob: bytes) -> StateMap:
    """Fresh, independent states from a blob made by `encode_states`."""
    if encoding != ENCODING:
        raise InvalidInput(f"unknown snapshot encoding {encoding!r}")
    document = orjson.loads(zlib.decompress(blob))
    return {name: ProjectionState(rows=rows, aux=aux) for name, (rows, aux) in document.items()}


@cache
def _module_digest(module_name: str) -> str:
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        # No source (a frozen app): the explicit `version` attributes must do.
        source = ""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def definition(projection: Projection) -> str:
    """What identifies one projection's definition in a snapshot key."""
    cls = type(projection)
    version = getattr(projection, "version", "")
    digest = _module_digest(cls.__module__)
    return f"{projection.name}={cls.__module__}.{cls.__qualname__}@{version}#{digest}"


def snapshot_key(projections: Sequence[Projection]) -> str:
    """The key of snapshots of exactly these projection definitions (order included)."""
    text = "\n".join([ENCODING, *(definition(p) for p in projections)])
    return "v1-" + hashlib.sha256(text.encode()).hexdigest()[:24]


class InMemorySnapshots:
    """A SnapshotStore in a dict: for tests, and for a timeline with nowhere to write."""

    def __init__(self) -> None:
        self._by_key: dict[str, dict[int, Snapshot]] = {}
        self._positions: dict[str, list[int]] = {}

    def save(self, snapshot: Snapshot) -> None:
        """Keep `snapshot`, replacing any with the same key and position."""
        kept = self._by_key.setdefault(snapshot.key, {})
        if snapshot.position not in kept:
            positions = self._positions.setdefault(snapshot.key, [])
            positions.insert(bisect_right(positions, snapshot.position), snapshot.position)
        kept[snapshot.position] = snapshot

    def latest(self, key: str, at_or_before: int) -> Snapshot | None:
        """The snapshot of `key` with the greatest position <= `at_or_before`, if any."""
        positions = self._positions.get(key)
        if not positions:
            return None
        index = bisect_right(positions, at_or_before)
        return self._by_key[key][positions[index - 1]] if index else None

    def positions(self, key: str) -> list[int]:
        """The positions of the snapshots kept for `key`, ascending."""
        return list(self._positions.get(key, ()))

    def size(self, key: str | None = None) -> int:
        """Total bytes of the blobs kept for `key` (for every key when None)."""
        keys = list(self._by_key) if key is None else [key]
        return sum(len(s.blob) for k in keys for s in self._by_key.get(k, {}).values())

    def discard(self, *, keep: str | None = None) -> int:
        """Delete the snapshots of every key but `keep`; returns how many were deleted."""
        doomed = [k for k in self._by_key if k != keep]
        count = sum(len(self._by_key[k]) for k in doomed)
        for k in doomed:
            del self._by_key[k]
            self._positions.pop(k, None)
        return count
