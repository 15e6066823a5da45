"""What may be opened as a database, a key or an anchor: regular files only.

A FIFO blocks its reader until a writer comes, `/dev/zero` never ends, and SQLite
opening a character device (`--db /dev/null`) leaves a `/dev/null-journal` beside it.
So every file eventscope opens by name is checked here first, before anything touches
it: it must be a regular file (or, for a database being created, not exist yet), and
small files (keys, anchors) must be small.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from domain.errors import InvalidInput

SMALL_FILE_LIMIT = 1 << 20
"""A key or an anchor is a few hundred bytes; anything over 1 MiB is not one."""

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def refuse_special_file(path: Path, what: str) -> None:
    """Raise InvalidInput if `path` exists and is neither a regular file nor a folder.

    A missing path passes (the caller says whether it may be created), and so does a
    folder (the caller names it as one). Symlinks are followed: what counts is the file
    that would be opened.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing, or unreadable: the caller's own open reports it
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    raise InvalidInput(f"{what} {path} is {_kind(mode)}, not a regular file")


def read_small_file(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of the regular file at `path`, refused when over `SMALL_FILE_LIMIT`.

    Opened non-blocking, so a FIFO is named as such instead of hanging the reader;
    every failure is one InvalidInput line starting with `what` (e.g. "key file").
    """
    name = Path(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise InvalidInput(f"{what} {name} does not exist") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {what} {name}: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise InvalidInput(f"{what} {name} is a folder, not a file")
        raise InvalidInput(f"{what} {name} is {_kind(mode)}, not a regular file")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(SMALL_FILE_LIMIT + 1)
        except OSError as exc:
            raise InvalidInput(f"cannot read {what} {name}: {exc.strerror}") from None
    if len(data) > SMALL_FILE_LIMIT:
        raise InvalidInput(f"{what} {name} is over {SMALL_FILE_LIMIT // 1024} KiB: not a {what}")
    return data


def loose_permissions(path: str | os.PathLike[str]) -> int | None:
    """The permission bits of `path` if group or others may read it, else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    bits = stat.S_IMODE(mode)
    return bits if bits & 0o044 else None
