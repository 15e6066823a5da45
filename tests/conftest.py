"""Settings and fixtures every test shares.

Hypothesis's per-example deadline (200 ms by default) is a timing assertion, and the
suite asserts behaviour, never speed (performance lives in `bench/`): on a loaded
machine a slow example must not fail a test. Examples stay bounded by `max_examples`.

The throwaway PostgreSQL server (tests/support/postgres_server.py) is shared by every
test folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from postgres_server import REQUIRE_ENV, PostgresServer, ServerUnavailable, start_server

settings.register_profile("eventscope", deadline=None)
settings.load_profile("eventscope")


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


@pytest.fixture
def shared_commit_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every PostgreSQL session opened in the test takes the shared-commit path, as
    `eventscope.commit_mode = 'shared'` makes it (the default, `auto`, appends alone
    while the lock's turns are short: store/postgres/commit_mode.py)."""
    monkeypatch.setattr("store.postgres.commit_mode.DEFAULT_COMMIT_MODE", "shared")
