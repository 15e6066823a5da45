"""How databases hold snapshots: zlib-compressed chunks, keys that hash projection sources.

The domain encodes snapshots (`domain.snapshots`) but neither compresses nor reads
source files; the composition root hands a timeline `ZLIB` and `stored_snapshot_key`,
and the store's own readers (the deep check, the read-model fingerprint) use the
same, so every key and blob in a database is what it has always been.

zlib because it shrinks these repetitive tables 5-6x and inflates much faster than
JSON parses.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from domain.projection import Projection
from domain.snapshots import PLAIN, SnapshotCodec, definition, snapshot_key


@dataclass(frozen=True, slots=True)
class ZlibCodec:
    """Chunks and manifests zlib-compressed (`chunks/1`, what databases hold)."""

    encoding: str = "chunks/1"
    level: int = 6

    def compress(self, data: bytes) -> bytes:
        """`data` deflated."""
        return zlib.compress(data, self.level)

    def decompress(self, data: bytes) -> bytes:
        """Stored bytes inflated."""
        return zlib.decompress(data)


ZLIB = ZlibCodec()
"""The codec of stored snapshots."""

_CODECS: dict[str, SnapshotCodec] = {codec.encoding: codec for codec in (ZLIB, PLAIN)}


def codec_for(encoding: str) -> SnapshotCodec:
    """The codec that reads snapshots of `encoding` (ZLIB for an unknown one, whose
    decoding then refuses the snapshot by name)."""
    return _CODECS.get(encoding, ZLIB)


def chunk_json(blob: bytes) -> bytes:
    """A stored chunk's JSON, whichever codec stored it: a chunk holds one JSON object,
    so a plain one starts with `{`, and anything else is inflated (a zlib stream starts
    with 0x78; damage raises zlib.error)."""
    return blob if blob[:1] == b"{" else zlib.decompress(blob)


@cache
def _module_digest(module_name: str) -> str:
    """A digest of the code a projection class's module runs: its own source and, when
    it sits in a package, that of its sibling modules (a projection split over a few
    modules of one package, as the ledger's are, changes its key with any of them)."""
    module = sys.modules.get(module_name)
    sources: list[str] = []
    try:
        sources.append(inspect.getsource(module) if module is not None else "")
        if module is not None and "." in module_name:
            package = sys.modules.get(module_name.rpartition(".")[0])
            folder = Path(getattr(package, "__file__", None) or "").parent
            if package is not None and getattr(package, "__path__", None):
                sources += [path.read_text() for path in sorted(folder.glob("*.py"))]
    except (OSError, TypeError):
        # No source (a frozen app): the explicit `version` attributes must do.
        sources = []
    return hashlib.sha256("".join(sources).encode()).hexdigest()[:16]


def stored_definition(projection: Projection) -> str:
    """A projection's definition with a digest of its module's source: changing the
    code changes the identity, so snapshots and read models of the old code go stale."""
    return definition(projection, _module_digest(type(projection).__module__))


def stored_snapshot_key(projections: Sequence[Projection]) -> str:
    """The key under which a database keeps snapshots of exactly these projections."""
    return snapshot_key(projections, ZLIB.encoding, stored_definition)
