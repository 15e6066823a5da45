"""`demo` history ends now (or at `--end`), so live writes continue it without a gap."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_support import Cli
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.clock import format_time, parse_time
from domain.demo_timing import ending_at, last_time
from domain.inventory.demo import generate_demo as inventory_demo
from domain.ledger.demo import generate_demo as ledger_demo
from store.sqlite import SqliteEventStore


def _times(db: Path) -> list[str]:
    store = SqliteEventStore(db)
    try:
        return [e.recorded_at for e in store.iter_all()]
    finally:
        store.close()


def test_a_fixed_end_gives_the_same_times_on_every_run(cli: Cli, tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for path in (first, second):
        result = cli(
            "demo", "--events", "300", "--end", "2026-03-01T18:00Z", "--no-open", db_path=path
        )
        assert result.code == 0, result.err
    times = _times(first)
    assert times == _times(second)
    assert max(times) == "2026-03-01T18:00:00.000000Z"
    assert times == sorted(times)


def test_by_default_the_history_ends_now(cli: Cli, db: Path) -> None:
    before = format_time(datetime.now(UTC))
    assert cli("demo", "--events", "200", "--no-open").code == 0
    after = format_time(datetime.now(UTC))
    assert before <= max(_times(db)) <= after


@pytest.mark.parametrize(
    ("end", "says"),
    [("2999-01-01", "is in the future"), ("yesterday", "is not an ISO time")],
)
def test_a_bad_end_is_refused_and_writes_nothing(cli: Cli, db: Path, end: str, says: str) -> None:
    result = cli("demo", "--events", "50", "--end", end, "--no-open")
    assert result.code == 2
    assert says in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not db.exists()


@settings(max_examples=10, deadline=None)
@given(
    st.sampled_from([ledger_demo, inventory_demo]),
    st.integers(1, 300),
    st.integers(0, 50),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_moving_a_history_keeps_its_events_and_gaps(
    generate: object, events: int, seed: int, end: datetime
) -> None:
    moment = end.replace(tzinfo=UTC)
    original = list(generate(events, seed))  # type: ignore[operator]
    moved = list(ending_at(generate, events, seed, moment))  # type: ignore[arg-type]
    assert len(moved) == len(original)
    assert last_time(lambda e, s: iter(moved), events, seed) == format_time(moment)
    shift = moment - parse_time(max(i.recorded_at for i in original))
    for before, after in zip(original, moved, strict=True):
        assert parse_time(after.recorded_at) - parse_time(before.recorded_at) == shift
        assert type(after) is type(before)
        assert after.recorded_at.endswith("Z") and len(after.recorded_at) == 27
