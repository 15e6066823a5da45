"""The throwaway PostgreSQL server the tests use: it runs, and each test gets its own
empty database."""

from __future__ import annotations

import psycopg
from postgres_server import PostgresServer


def test_each_test_gets_a_fresh_empty_database(postgres_server: PostgresServer) -> None:
    first, second = postgres_server.database(), postgres_server.database()
    assert first != second
    with psycopg.connect(first) as conn:
        conn.execute("CREATE TABLE t (x int)")
    with psycopg.connect(second) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_the_server_speaks_a_supported_version(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.info.server_version >= 120000
