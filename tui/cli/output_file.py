"""Writing a file the user named (`export FILE`) without ever harming the database.

`open(FILE, "wb")` truncates before it writes a byte: `export c.db` emptied the very
database being exported. So a target is refused when it is the database or one of its
`-wal`/`-shm`/`-journal` files (by device and inode, so a hard link or a symlink to
them is caught too, and by name for the sidecars that do not exist yet), when it is
not a regular file, and when it exists and `--force` was not given. The bytes go to a
temporary file in the target's folder, renamed over the target only once complete: a
failed export leaves the old file (or nothing) and no partial one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from domain.errors import InvalidInput
from store.sidecars import sidecars


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


def refuse_database_files(target: Path, database: Path | None) -> None:
    """Raise InvalidInput if writing `target` would write the database or its sidecars
    (`database` None: a store without a file, nothing to protect)."""
    if database is None:
        return
    protected = [database, *sidecars(database)]
    real = os.path.realpath(target)
    names = {os.path.realpath(p) for p in protected}
    ids = {found for p in protected if (found := _identity(p)) is not None}
    if real in names or _identity(target) in ids:
        raise InvalidInput(
            f"{target} is the database {database} (or one of its -wal/-shm/-journal files); "
            "export to another file"
        )


def _creation_mode(existing: os.stat_result | None) -> int:
    """The mode a new file gets (0666 less the umask), or the replaced file's."""
    if existing is not None:
        return stat.S_IMODE(existing.st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def replacing_file(target: str, database: Path | None, *, force: bool) -> Iterator[BinaryIO]:
    """A binary stream whose bytes become `target` once the block ends without error.

    Refused (InvalidInput, nothing written): the database or its sidecars, a folder, a
    device or FIFO, and an existing file without `force`. A symlink is written through
    (its target is replaced), as a shell redirection would.
    """
    path = Path(target)
    refuse_database_files(path, database)
    real = Path(os.path.realpath(path))
    try:
        existing: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise InvalidInput(f"cannot write {target}: {exc.strerror}") from None
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            raise InvalidInput(f"{target} is a folder; give a file name")
        if not stat.S_ISREG(existing.st_mode):
            raise InvalidInput(
                f"{target} is not a regular file; export to a file, or to stdout with -"
            )
        if not force:
            raise InvalidInput(f"{target} exists; give --force to replace it")
    try:
        fd, temporary = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidInput(f"cannot write {target}: {exc.strerror}") from None
    done = False
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _creation_mode(existing))
        os.replace(temporary, real)
        done = True
    except OSError as exc:
        raise InvalidInput(f"cannot write {target}: {exc.strerror}") from None
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
