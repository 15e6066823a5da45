"""What every file- or server-backed store decides the same way from its recorded
settings and the key it was opened with: the hash mode, whether the key fits, and the
one-line refusals for writing read-only or without the key of a keyed chain.

A mixin of `store.sqlite.base.SqliteBase` and `store.postgres.base.PostgresBase`;
`where` names the database in messages (a path, or a URL without its password).
"""

from __future__ import annotations

from domain.errors import StoreError
from store.hashchain import HASH_HMAC, HASH_SHA256, key_check_value


class ChainSettings:
    """The hash mode and key of an opened store (`_meta` is its recorded settings)."""

    where: str
    """How messages name the database (SQLite: its path; PostgreSQL: the URL without
    its password)."""
    read_only: bool
    _key: bytes | None
    _meta: dict[str, str]

    @property
    def hash_mode(self) -> str:
        """`sha256` or `hmac-sha256`."""
        return self._meta.get("hash_mode", HASH_SHA256)

    @property
    def keyed(self) -> bool:
        """True for an HMAC-keyed chain."""
        return self.hash_mode == HASH_HMAC

    @property
    def has_key(self) -> bool:
        """True when the key of a keyed chain was given (needed to write and verify)."""
        return self._key is not None

    def _refuse_read_only(self, action: str) -> None:
        if self.read_only:
            raise StoreError(f"{self.where} is open read-only: cannot {action}")

    def _need_key(self, action: str) -> None:
        if self.keyed and self._key is None:
            raise StoreError(
                f"{self.where} is HMAC-keyed: {action} needs the key (EVENTSCOPE_KEY or "
                "EVENTSCOPE_KEY_FILE)"
            )

    def _check_key(self) -> None:
        """Refuse a key that does not fit the recorded hash mode (or key check)."""
        mode = self._meta.get("hash_mode")
        if mode == HASH_HMAC:
            if self._key is None:
                if self.read_only:
                    return
                raise StoreError(
                    f"{self.where} is HMAC-keyed: set EVENTSCOPE_KEY or EVENTSCOPE_KEY_FILE "
                    "to write to it"
                )
            expected = self._meta.get("key_check", "")
            if key_check_value(self._key, self._meta.get("key_salt", "")) != expected:
                raise StoreError(
                    f"the key does not match {self.where}: check EVENTSCOPE_KEY or "
                    "EVENTSCOPE_KEY_FILE"
                )
        elif mode == HASH_SHA256:
            if self._key is not None:
                raise StoreError(
                    f"{self.where} is not keyed (plain SHA-256) but a key was given; unset "
                    "EVENTSCOPE_KEY and EVENTSCOPE_KEY_FILE to open it"
                )
        else:
            raise StoreError(f"{self.where} has an unknown hash mode {mode!r}")
