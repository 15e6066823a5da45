"""Which path an append takes on PostgreSQL (store/postgres/commit_mode.py).

`eventscope.commit_mode` (a database, role or session setting, read at connect) is
`each` (one commit per append), `shared` (the shared-commit path of
store/postgres/group_commit.py) or `auto` (the default): each writer session appends
alone until its appends wait for the lock while the lock's turns are slow, then shares
commits until an append of its own finds nobody to share with.
"""

from __future__ import annotations

from functools import partial

import psycopg
import pytest
from cli_support import Cli
from hypothesis import given
from hypothesis import strategies as st
from test_postgres_lock_patience import _in_background, _lock_waiters
from test_postgres_shared_commits import _append, _lock_held, _queued, _wait_for

from domain.envelope import AppendResult
from domain.errors import StoreError
from store.postgres.commit_mode import TURN_MS, WAITED_MS, CommitChooser
from store.postgres.store import PostgresEventStore


def set_commit_mode(url: str, value: str) -> None:
    """`ALTER DATABASE … SET eventscope.commit_mode` for the database of `url`."""
    with psycopg.connect(url, autocommit=True) as conn:
        name = conn.info.dbname
        conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET eventscope.commit_mode = {}").format(
                psycopg.sql.Identifier(name), psycopg.sql.Literal(value)
            )
        )


def _append_while_held(url: str, store: PostgresEventStore, version: int, event_id: str) -> str:
    """Append while the test holds the append lock: "queued" when the append went into
    the shared queue, "waited" when it waited for the lock itself; its result checked."""
    with _lock_held(url):
        thread, got = _in_background(
            partial(_append, store, "a", version, event_id, f"c-{event_id}")
        )
        _wait_for(lambda: _queued(url) + _lock_waiters(url) == 1, "the writer waiting")
        how = "queued" if _queued(url) == 1 else "waited"
    thread.join()
    assert isinstance(got[0], AppendResult) and got[0].positions == (version + 1,), got
    return how


@pytest.mark.parametrize(("mode", "how"), [("each", "waited"), ("shared", "queued")])
def test_a_database_setting_chooses_each_writers_commit_path(
    postgres_url: str, mode: str, how: str
) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    set_commit_mode(postgres_url, mode)
    with PostgresEventStore(postgres_url) as store:
        assert store.commits.mode == mode
        assert _append_while_held(postgres_url, store, 0, "e1") == how
        assert _append_while_held(postgres_url, store, 1, "e2") == how
        assert store.verify().ok and _queued(postgres_url) == 0


def test_auto_is_the_default_and_shares_commits_once_the_lock_is_slow(
    postgres_url: str,
) -> None:
    with PostgresEventStore(postgres_url, create=True) as store:
        assert store.commits.mode == "auto"
        _append(store, "a", 0, "e1", "c-e1")  # alone: no turn measured yet
        assert not store.commits.combining
        # The test holds the lock until the writer waits for it (for one turn that
        # far exceeds TURN_MS): the writer appended alone, and now shares commits.
        assert _append_while_held(postgres_url, store, 1, "e2") == "waited"
        assert store.commits.combining
        assert _append_while_held(postgres_url, store, 2, "e3") == "queued"
        # Its last commit held its append only: nobody to share with, so it appends alone.
        assert not store.commits.combining
        _append(store, "a", 3, "e4", "c-e4")
        assert store.last_batch == 1 and store.verify().ok


@pytest.mark.parametrize("value", ["fast", "'", "each,shared"])
def test_a_commit_mode_that_is_not_a_mode_is_refused_in_one_line(
    postgres_url: str, value: str, cli: Cli
) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    set_commit_mode(postgres_url, value)
    with pytest.raises(StoreError, match="set it to auto, shared or each"):
        PostgresEventStore(postgres_url)
    result = cli("--db", postgres_url, "log")
    assert result.code == 2 and "eventscope.commit_mode" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


_turns = st.floats(min_value=0.0, max_value=0.5, allow_nan=False)


@given(
    gap=st.integers(min_value=1, max_value=1000),
    seconds=_turns,
    waited=_turns,
    batch=st.integers(min_value=1, max_value=50),
    plain=st.booleans(),
)
def test_auto_shares_commits_exactly_when_it_waited_and_the_turns_are_slow(
    gap: int, seconds: float, waited: float, batch: int, plain: bool
) -> None:
    chooser = CommitChooser("auto")
    chooser.observe(10, 1000.0, 0.0, 1)
    assert not chooser.shared()  # one observation measures no turn
    chooser.observe(10 + gap, 1000.0 + seconds, waited if plain else None, batch)
    turn_ms = seconds * 1000 / gap
    contended = waited * 1000 > WAITED_MS if plain else batch > 1
    assert chooser.shared() == (contended and turn_ms > TURN_MS)


@given(st.lists(st.tuples(st.integers(1, 10**6), _turns, _turns, st.integers(1, 9))))
def test_each_and_shared_never_change_their_path(
    seen: list[tuple[int, float, float, int]],
) -> None:
    each, shared = CommitChooser("each"), CommitChooser("shared")
    for first, granted, waited, batch in seen:
        for chooser in (each, shared):
            chooser.observe(first, granted, waited, batch)
            assert chooser.shared() == (chooser.mode == "shared")


def test_a_conflict_measures_no_turn() -> None:
    chooser = CommitChooser("auto")
    chooser.observe(5, 100.0, 0.0, 1)
    chooser.observe(None, None, None, 0)  # a conflict: no position, no grant
    chooser.observe(6, 100.5, 0.1, 1)  # waited, 500 ms for one position
    assert chooser.shared()
