"""Connecting to PostgreSQL: one line for every failure a person can cause, and the
session settings the store relies on (read-only, time zone, READ COMMITTED)."""

from __future__ import annotations

import psycopg

from domain.errors import StoreError
from store.postgres.url import check_url, redacted

OLDEST_SERVER = 120000
"""PostgreSQL 12: the oldest server eventscope supports (generated columns, `pg_notify`
and advisory locks are older; 12 is the oldest still shipped by the distributions)."""


def connect(url: str, *, read_only: bool = False, connect_timeout: int = 10) -> psycopg.Connection:
    """An autocommit connection to `url`; StoreError (exit 2) with one line when it fails.

    With `read_only` the session starts with `default_transaction_read_only`, so the
    server itself refuses every write.
    """
    check_url(url)
    options = "-c TimeZone=UTC"
    if read_only:
        options += " -c default_transaction_read_only=on"
    try:
        conn = psycopg.connect(
            url, autocommit=True, options=options, connect_timeout=connect_timeout
        )
    except psycopg.Error as exc:
        raise connection_error(url, exc) from None
    version = conn.info.server_version
    if version < OLDEST_SERVER:
        conn.close()
        raise StoreError(
            f"{redacted(url)}: PostgreSQL {_version_text(version)} is older than the oldest "
            f"supported, {_version_text(OLDEST_SERVER)}; upgrade the server"
        )
    return conn


def _version_text(number: int) -> str:
    return f"{number // 10000}.{number % 10000}"


def connection_error(url: str, exc: psycopg.Error) -> StoreError:
    """One actionable line for a failed connection."""
    shown = redacted(url)
    text = " ".join(str(exc).split())
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return StoreError(f"{shown}: wrong user name or password ({_last(text)})")
    if "role" in lowered and "does not exist" in lowered:
        return StoreError(f"{shown}: {_last(text)}; check the user name in the URL")
    if "database" in lowered and "does not exist" in lowered:
        return StoreError(
            f"{shown}: {_last(text)}; create it first (createdb NAME, or CREATE DATABASE)"
        )
    if (
        "connection refused" in lowered
        or "could not translate host name" in lowered
        or "timeout expired" in lowered
        or "no route to host" in lowered
        or "could not connect" in lowered
        or "connection failed" in lowered
    ):
        return StoreError(f"{shown}: cannot reach the server ({_last(text)}); is it running?")
    return StoreError(f"{shown}: cannot connect: {_last(text)}")


def _last(text: str) -> str:
    """The useful end of libpq's message (it prefixes the address it tried)."""
    marker = "FATAL:"
    if marker in text:
        text = text.split(marker, 1)[1]
    return text.strip()[:300]
