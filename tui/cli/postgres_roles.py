"""`init --writer-role W --reader-role R`: the PostgreSQL privileges of a writer role and
a reader role (store/postgres/privileges.py; docs/postgres.md, "Immutability")."""

from __future__ import annotations

import argparse
import os
import re

from domain.errors import InvalidInput
from store.postgres import is_postgres_url
from tui.bootstrap import Workspace, default_db_path

ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
"""A plain PostgreSQL role name (no quoting needed, none of the reserved prefixes' tricks)."""


def requested_roles(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The roles `init` was asked to set up, checked before anything is opened: only on
    PostgreSQL, and plain names."""
    writer, reader = getattr(args, "writer_role", None), getattr(args, "reader_role", None)
    if writer is None and reader is None:
        return None, None
    db = getattr(args, "db", None)
    if not is_postgres_url(os.fspath(db) if db is not None else default_db_path()):
        raise InvalidInput(
            "--writer-role and --reader-role are for PostgreSQL (--db postgresql://...): "
            "a SQLite file has no roles; protect it with file permissions"
        )
    for option, role in (("--writer-role", writer), ("--reader-role", reader)):
        if role is not None and not ROLE_NAME.fullmatch(role):
            raise InvalidInput(
                f"{option} {role!r}: give a plain role name (letters, digits, _; at most 63)"
            )
    return writer, reader


def grant(ws: Workspace, writer: str | None, reader: str | None) -> list[str]:
    """Grant the roles their privileges on the store `ws` opened; one line per role."""
    from store.postgres.store import PostgresEventStore

    assert isinstance(ws.store, PostgresEventStore)
    return ws.store.grant_roles(writer=writer, reader=reader)
