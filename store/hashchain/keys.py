"""The HMAC key of a keyed chain: where it is read from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from domain.errors import InvalidInput
from store.files import read_small_file
from store.hashchain.rows import (
    KEY_ENV,
    KEY_FILE_ENV,
)

# -- keys --------------------------------------------------------------------------------


def load_key(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The HMAC key: from `path`, else `$EVENTSCOPE_KEY_FILE`, else `$EVENTSCOPE_KEY`.

    Returns None when no key is configured (plain SHA-256 chains). A key file's
    trailing newline is ignored so `echo secret > key` works. Raises InvalidInput
    for a missing or empty key file, an empty key, or both variables set at once.
    """
    env = os.environ if environ is None else environ
    if path is None:
        from_file = env.get(KEY_FILE_ENV, "")
        from_env = env.get(KEY_ENV, "")
        if from_file and from_env:
            raise InvalidInput(f"set {KEY_ENV} or {KEY_FILE_ENV}, not both")
        if from_env:
            return from_env.encode()
        if not from_file:
            if KEY_ENV in env:
                raise InvalidInput(f"{KEY_ENV} is set but empty; set a key or unset it")
            return None
        path = from_file
    key_path = Path(path)
    key = read_small_file(key_path, "key file").rstrip(b"\r\n")
    if not key:
        raise InvalidInput(f"key file {key_path} is empty")
    return key
