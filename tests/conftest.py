"""Fixtures every test folder shares: the throwaway PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from postgres_server import REQUIRE_ENV, PostgresServer, ServerUnavailable, start_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server per test process (per xdist worker).

    Without PostgreSQL's server programs the tests that use it skip, saying how to
    enable them; with EVENTSCOPE_REQUIRE_POSTGRES=1 (as in .ci/run) they fail instead.
    """
    try:
        server = start_server()
    except ServerUnavailable as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{exc} ({REQUIRE_ENV}=1: the PostgreSQL tests must run)")
        pytest.skip(f"{exc} (set {REQUIRE_ENV}=1 to make this a failure)")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the throwaway server."""
    return postgres_server.database()
