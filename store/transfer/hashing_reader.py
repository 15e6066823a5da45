"""The import's input, read a block at a time and hashed as it is read (the SHA-256 in
the import record), with a look ahead at its size (whether a replay child pays)."""

from __future__ import annotations

import contextlib
import hashlib
import io
from typing import IO, Any

from domain.errors import InvalidInput


class HashingReader(io.RawIOBase):
    """A binary stream that hashes what is read from it (for the import record), a
    block at a time: lines are read from a `BufferedReader` over it, in C."""

    def __init__(self, source: IO[bytes]) -> None:
        self._read = getattr(source, "read1", None) or source.read
        self.sha256: Any = hashlib.sha256()
        self.count = 0
        """Bytes read so far."""
        self._ahead: list[bytes] = []

    def readable(self) -> bool:
        return True

    def at_least(self, size: int) -> bool:
        """True when the source holds `size` bytes or more: read ahead for a pipe (the
        blocks read are served first), measured for a file or a seekable buffer."""
        source = getattr(self._read, "__self__", None)
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if source is not None and source.isatty():
                return False  # lines typed in: each is read (and refused) as it comes
            if source is not None and source.seekable():
                here = source.tell()
                end = source.seek(0, io.SEEK_END)
                source.seek(here)
                return bool(end - here >= size)
        held = sum(map(len, self._ahead))
        while held < size:
            data = self._read(1 << 16)
            if not data:
                return False
            if isinstance(data, str):
                raise InvalidInput("open the import file in binary mode ('rb')")
            self._ahead.append(data)
            held += len(data)
        return True

    def readinto(self, buffer: Any) -> int:
        if self._ahead:
            data = self._ahead.pop(0)
            if len(data) > len(buffer):
                data, rest = data[: len(buffer)], data[len(buffer) :]
                self._ahead.insert(0, rest)
        else:
            data = self._read(len(buffer))
        if isinstance(data, str):
            raise InvalidInput("open the import file in binary mode ('rb')")
        size = len(data)
        buffer[:size] = data
        self.sha256.update(data)
        self.count += size
        return size
