"""The projector: persisted read models equal a replay, resume, rebuild, lease, failures."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer
from projector_support import (
    CASES,
    DomainCase,
    FakeClock,
    assert_same_states,
    case_id,
    demo_items,
    ledger_projector,
    new_store,
    persisted,
    replayed,
    with_refusals,
)

from domain.bus import CommandBus
from domain.clock import StepClock
from domain.envelope import PendingEvent, RecordedEvent, Refusal
from domain.ledger import LEDGER
from domain.ledger.events import EVENTS
from domain.ledger.projections import LEDGER_PROJECTIONS, ledger_projections
from domain.model import EventCatalog
from domain.projection import Column, ProjectionState
from store.postgres.store import PostgresEventStore
from store.projector import ProjectionFailed, Projector, ProjectorBusy
from store.projector import projector as store_projector
from store.replay import fold_rows
from store.sqlite import SqliteEventStore

HISTORY = demo_items(1500)
"""One realistic history, appended in slices by the tests (1,500 events, some refusals)."""


def slices(
    items: Sequence[PendingEvent | Refusal], *cuts: int
) -> list[list[PendingEvent | Refusal]]:
    """`items` cut after about the given event counts, never inside a command."""
    parts: list[list[PendingEvent | Refusal]] = [[]]
    events = 0
    remaining = list(cuts)
    previous_command = None
    for item in items:
        if isinstance(item, PendingEvent):
            command = item.metadata.get("command_id")
            if remaining and events >= remaining[0] and command != previous_command:
                parts.append([])
                remaining.pop(0)
            previous_command = command
            events += 1
        parts[-1].append(item)
    return parts


def append(store: SqliteEventStore, items: list[PendingEvent | Refusal]) -> int:
    """Append a slice; returns the new head position."""
    store.append_bulk(items)
    return store.head().position


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteEventStore]:
    store = new_store(tmp_path / "ledger.db")
    yield store
    store.close()


def tables(store: SqliteEventStore) -> set[str]:
    with sqlite3.connect(store.path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


# -- catching up ---------------------------------------------------------------------------


@pytest.fixture(params=CASES, ids=case_id)
def case(request: pytest.FixtureRequest) -> DomainCase:
    """Each domain, for the promises that do not depend on one."""
    case: DomainCase = request.param
    return case


@pytest.fixture
def case_store(case: DomainCase, tmp_path: Path) -> Iterator[SqliteEventStore]:
    store = case.new_store(tmp_path / f"{case.name}.db")
    yield store
    store.close()


def test_catch_up_writes_tables_equal_to_a_replay_of_every_event(
    case: DomainCase, case_store: SqliteEventStore
) -> None:
    store = case_store
    store.append_bulk(case.history())
    projector = case.projector(store, batch=170)

    status = projector.catch_up()

    head = store.head().position
    assert (status.checkpoint, status.head, status.lag, status.role) == (head, head, 0, "leader")
    assert_same_states(persisted(projector), replayed(store, case.projections))
    first = case.projections[0].name
    assert {f"rm_{first}", f"rm_{first}__aux", "projector_checkpoint"} <= tables(store)


def test_later_events_are_folded_in_batches_writing_only_changed_rows(
    store: SqliteEventStore,
) -> None:
    first, second = slices(HISTORY, 1000)
    cut = append(store, first)
    projector = ledger_projector(store, batch=64)
    projector.catch_up()
    before = persisted(projector)
    store.append_bulk(second)
    seen: list[tuple[int, int]] = []

    projector.catch_up(progress=lambda position, head: seen.append((position, head)))

    head = store.head().position
    assert [p for p, _ in seen] == [*range(cut + 64, head, 64), head]
    assert all(h == head for _, h in seen)
    after = persisted(projector)
    assert_same_states(after, replayed(store))
    balances = after["account_balances"].rows
    untouched = {k for k, row in before["account_balances"].rows.items() if balances[k] == row}
    assert untouched  # most accounts saw no event in the tail, and kept their rows


def test_the_live_read_model_overlays_refusals_up_to_its_checkpoint(
    store: SqliteEventStore,
) -> None:
    store.append_bulk(HISTORY)
    projector = ledger_projector(store)
    projector.catch_up()

    models = projector.read_models()

    assert models.position == store.head().position
    expected = with_refusals(store, replayed(store), models.position, LEDGER_PROJECTIONS)
    assert_same_states(models.states, expected)
    assert sum(r["refusals"] for r in models.states["actor_activity"].rows.values()) == len(
        [i for i in HISTORY if isinstance(i, Refusal)]
    )
    assert projector.read_model("account_balances") == models.states["account_balances"]


def test_rows_pages_in_key_order_and_looks_keys_up(store: SqliteEventStore) -> None:
    store.append_bulk(HISTORY)
    projector = ledger_projector(store)
    projector.catch_up()
    everything = projector.rows("account_balances")
    keys = sorted(everything)

    page = projector.rows("account_balances", after=keys[2], limit=3)
    some = projector.rows("account_balances", keys=[keys[0], "no-such-account"])

    assert list(page) == keys[3:6]
    assert some == {keys[0]: everything[keys[0]]}
    with pytest.raises(Exception, match="unknown projection 'nope'"):
        projector.rows("nope")


def test_restart_resumes_from_the_checkpoint_without_replaying(
    store: SqliteEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = slices(HISTORY, 900)
    cut = append(store, first)
    projector = ledger_projector(store)
    projector.catch_up()
    projector.close()
    store.append_bulk(second)

    def no_rebuild(*args: Any) -> None:
        raise AssertionError("a restart must resume, not rebuild")

    monkeypatch.setattr(Projector, "_rebuild_locked", no_rebuild)
    read: list[int] = []

    def reading(rows: Sequence[Sequence[Any]], *args: Any) -> None:
        read.extend(row[0] for row in rows)
        fold_rows(rows, *args)

    monkeypatch.setattr(store_projector, "fold_rows", reading)
    restarted = ledger_projector(store, batch=100)

    assert restarted.status().checkpoint == cut
    restarted.catch_up()

    assert read == list(range(cut + 1, store.head().position + 1))
    assert_same_states(persisted(restarted), replayed(store))


def test_incremental_projection_equals_a_rebuild(
    case: DomainCase, case_store: SqliteEventStore
) -> None:
    store = case_store
    projector = case.projector(store, batch=37)
    for part in slices(case.history(), 10, 400, 401, 1100):
        store.append_bulk(part)
        projector.catch_up()
    incremental = persisted(projector)

    projector.rebuild()

    assert_same_states(persisted(projector), incremental)
    assert_same_states(incremental, replayed(store, case.projections))


def test_a_first_run_on_a_long_history_builds_by_rebuilding(store: SqliteEventStore) -> None:
    store.append_bulk(HISTORY)
    projector = ledger_projector(store)
    progress: list[int] = []

    projector.catch_up(progress=lambda position, head: progress.append(position))

    assert progress[-1] == store.head().position
    assert_same_states(persisted(projector), replayed(store))


# -- rebuilding ----------------------------------------------------------------------------


def test_rebuild_swaps_at_once_while_the_old_tables_stay_readable(
    store: SqliteEventStore,
) -> None:
    first, second = slices(HISTORY, 700)
    cut = append(store, first)
    projector = ledger_projector(store, batch=100)
    projector.catch_up()
    old = persisted(projector)
    store.append_bulk(second)
    reader = ledger_projector(store)  # another reader of the same file, as the app would be
    during: list[tuple[int, int]] = []

    def check(position: int, head: int) -> None:
        during.append((position, head))
        models = reader.read_models(refusals=False)
        assert models.position == cut
        assert_same_states(models.states, old)

    status = projector.rebuild(progress=check)

    head = store.head().position
    assert during[-1] == (head, head) and len(during) == -(-head // 100)
    assert status.checkpoint == head
    assert reader.read_models(refusals=False).position == head
    assert_same_states(persisted(reader), replayed(store))
    assert not [t for t in tables(store) if "__new" in t]


def test_changed_projection_definitions_rebuild_rather_than_mix(
    store: SqliteEventStore,
) -> None:
    first, second = slices(HISTORY, 800)
    store.append_bulk(first)
    with ledger_projector(store) as before:
        before.catch_up()
    store.append_bulk(second)
    stricter = ledger_projections(large_amounts={"EUR": 1, "USD": 1, "GBP": 1, "CHF": 1, "JPY": 1})
    old_reader = ledger_projector(store)
    changed = ledger_projector(store, stricter)

    assert changed.status().rebuild_needed
    stale = changed.read_models(refusals=False)
    assert stale.stale == {"audit_flags"} and stale.states["audit_flags"].rows == {}
    assert changed.catch_up().role == "leader"

    assert_same_states(persisted(changed), replayed(store, stricter))
    assert old_reader.status().rebuild_needed
    assert old_reader.read_models().stale == {"audit_flags"}


# -- the lease -----------------------------------------------------------------------------


def test_only_the_lease_holder_writes_and_another_takes_over_when_it_lapses(
    store: SqliteEventStore,
) -> None:
    first, second, third = slices(HISTORY, 500, 1000)
    one_cut = append(store, first)
    clock = FakeClock()
    one = ledger_projector(store, owner_id="one", lease_seconds=10, clock=clock)
    two = ledger_projector(store, owner_id="two", lease_seconds=10, clock=clock)
    assert one.catch_up().role == "leader"
    two_cut = append(store, second)

    clock.advance(9)
    status = two.catch_up()

    assert (status.role, status.lease_owner, status.checkpoint) == ("follower", "one", one_cut)
    with pytest.raises(ProjectorBusy, match="projector one is writing"):
        two.rebuild()

    clock.advance(2)  # one's lease (taken at 0, for 10 s) has lapsed: one died, say
    status = two.catch_up()

    assert (status.role, status.lease_owner, status.checkpoint) == ("leader", "two", two_cut)
    store.append_bulk(third)
    status = one.catch_up()  # back from the dead: it must not write over two's tables
    assert (status.role, status.lease_owner, status.checkpoint) == ("follower", "two", two_cut)
    two.catch_up()
    assert_same_states(persisted(one), replayed(store))


def test_a_leader_renews_its_lease_as_it_writes(store: SqliteEventStore) -> None:
    first, second = slices(HISTORY, 500)
    store.append_bulk(first)
    clock = FakeClock()
    one = ledger_projector(store, owner_id="one", lease_seconds=10, clock=clock)
    two = ledger_projector(store, owner_id="two", lease_seconds=10, clock=clock)
    one.catch_up()
    store.append_bulk(second)
    clock.advance(8)
    one.catch_up()  # renewed: now valid until 18

    clock.advance(8)

    assert two.catch_up().role == "follower"
    assert one.status().lease_expires_at == clock.now - 8 + 10


def test_a_clean_stop_releases_the_lease_at_once(store: SqliteEventStore) -> None:
    store.append_bulk(HISTORY)
    clock = FakeClock()
    one = ledger_projector(store, owner_id="one", clock=clock)
    two = ledger_projector(store, owner_id="two", clock=clock)
    one.catch_up()
    one.close()

    assert two.catch_up().role == "leader"


# -- failures ------------------------------------------------------------------------------


class Exploding:
    """A projection that counts events and raises on the event at position `at`."""

    name = "exploding"
    title = "Exploding"
    key_title = "total"
    columns: Sequence[Column] = (Column("n", "N", "int"),)
    version = 1

    def __init__(self, at: int) -> None:
        self.at = at

    def initial(self) -> ProjectionState:
        return ProjectionState(aux={"seen": 0})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        if event.position == self.at:
            raise ValueError("cannot fold this one")
        state.aux["seen"] += 1
        state.rows["total"] = {"n": state.aux["seen"]}
        return ("total",)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        return None


@pytest.mark.parametrize("during", ["catch_up", "first_run"])
def test_a_raising_projection_stops_the_projector_before_its_event(
    store: SqliteEventStore, during: str
) -> None:
    first, second = slices(HISTORY, 300)
    store.append_bulk(first)
    projections = (*LEDGER_PROJECTIONS, Exploding(at=777))
    projector = ledger_projector(store, projections, batch=100)
    if during == "catch_up":
        projector.catch_up()
    store.append_bulk(second)
    event_type = store.read_all(after=776, to=777)[0].type

    with pytest.raises(ProjectionFailed) as failed:
        projector.catch_up()

    error = failed.value
    assert (error.position, error.event_type, error.projection) == (777, event_type, "exploding")
    assert str(error).startswith(f"projection exploding failed on event #777 ({event_type}): ")
    assert "ValueError: cannot fold this one" in str(error)
    status = projector.status()
    expected_checkpoint = 776 if during == "catch_up" else 0
    assert status.checkpoint == expected_checkpoint
    assert status.error == str(error) and status.error_position == 777
    if during == "catch_up":
        expected = replayed(store, projections[:-1], to=776)
        assert_same_states(
            {k: v for k, v in persisted(projector).items() if k != "exploding"}, expected
        )
        assert persisted(projector)["exploding"].rows == {"total": {"n": 776}}
    assert projector.wait_for(776 if during == "catch_up" else 0, timeout=0)
    assert not projector.wait_for(900, timeout=30)  # returns at once: it will not get there
    other = ledger_projector(store, projections)
    assert other.status().error == str(error)  # visible to other processes too
    with pytest.raises(ProjectionFailed):
        projector.catch_up()  # still failing: no silent skip


def stored_as_v1(items: Sequence[PendingEvent | Refusal]) -> list[PendingEvent | Refusal]:
    """`items` with every deposit as MoneyDeposited v1 stored it: no `channel`."""
    result: list[PendingEvent | Refusal] = []
    for item in items:
        if isinstance(item, PendingEvent) and item.type == "MoneyDeposited":
            data = {k: v for k, v in item.data.items() if k != "channel"}
            item = dataclasses.replace(item, data=data, schema_version=1)
        result.append(item)
    return result


class Channels:
    """Counts deposits per channel (v1 data has none: only upcasting gives it one)."""

    name = "channels"
    title = "Channels"
    key_title = "channel"
    columns: Sequence[Column] = (Column("n", "N", "int"),)
    version = 1

    def initial(self) -> ProjectionState:
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        if event.type != "MoneyDeposited":
            return ()
        channel = event.data["channel"]
        row = state.rows.setdefault(channel, {"n": 0})
        row["n"] += 1
        return (channel,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        return None


def test_old_schema_versions_are_upcast_before_projections_see_them(
    store: SqliteEventStore,
) -> None:
    old, new = slices(HISTORY, 700)
    store.append_bulk([*stored_as_v1(old), *new])
    projector = Projector(store, [Channels(), *LEDGER_PROJECTIONS], LEDGER.catalog, name="mixed")

    projector.catch_up()

    def deposits(items: list[PendingEvent | Refusal]) -> list[PendingEvent]:
        return [i for i in items if isinstance(i, PendingEvent) and i.type == "MoneyDeposited"]

    expected = Counter(str(i.data["channel"]) for i in deposits(new))
    expected["unknown"] = len(deposits(old))
    rows = projector.read_model("channels").rows
    assert {key: row["n"] for key, row in rows.items()} == dict(expected)
    # The ledger's own projections read amounts only: v1 and v2 fold alike.
    reference = new_store(store.path.with_name("all-v2.db"))
    reference.append_bulk(HISTORY)
    with ledger_projector(reference, name="v2") as v2:
        v2.catch_up()
        for projection in LEDGER_PROJECTIONS:
            name = projection.name
            assert projector.read_model(name).rows == v2.read_model(name).rows, name
    reference.close()


def test_an_event_that_cannot_be_upcast_stops_the_projector(store: SqliteEventStore) -> None:
    store.append_bulk(stored_as_v1(HISTORY))
    first = next(e for e in store.iter_all() if e.type == "MoneyDeposited").position
    no_upcasters = EventCatalog(EVENTS)
    projector = Projector(store, [Channels()], no_upcasters, name="channels")

    with pytest.raises(ProjectionFailed, match=rf"reading event #{first} \(MoneyDeposited\)"):
        projector.catch_up()


# -- waiting, lag, following ---------------------------------------------------------------


def test_lag_is_the_head_minus_the_checkpoint(store: SqliteEventStore) -> None:
    first, second = slices(HISTORY, 1200)
    cut = append(store, first)
    projector = ledger_projector(store)
    projector.catch_up()
    head = append(store, second)

    status = projector.status()

    assert (status.checkpoint, status.head, status.lag) == (cut, head, head - cut)
    assert status.describe().startswith(f"#{cut:,} of {head:,} · {head - cut:,} behind · leader")
    assert status.to_json_dict()["lag"] == head - cut


def test_wait_for_reports_whether_the_read_model_got_there(store: SqliteEventStore) -> None:
    store.append_bulk(HISTORY)
    projector = ledger_projector(store)
    assert not projector.wait_for(1, timeout=0)
    projector.catch_up()

    assert projector.wait_for(1500, timeout=0)
    assert not projector.wait_for(1501, timeout=0.05)


def test_following_reads_your_writes_from_another_thread(store: SqliteEventStore) -> None:
    store.append_bulk(HISTORY)
    projector = ledger_projector(store, batch=200)
    stop = threading.Event()
    statuses: list[Any] = []
    follower = threading.Thread(
        target=projector.follow, args=(0.01, stop), kwargs={"on_status": statuses.append}
    )
    follower.start()
    try:
        bus = CommandBus(store, LEDGER, clock=StepClock("2030-01-01T00:00:00Z"))
        reader = ledger_projector(store)
        result = bus.execute_fields(
            "open_account",
            {"account_id": "fresh", "owner": "Fresh", "currency": "EUR"},
            actor="tester",
        )
        assert reader.wait_for(result.last_position, timeout=30)
        assert reader.read_model("account_balances").rows["fresh"]["owner"] == "Fresh"
        result = bus.execute_fields(
            "deposit", {"account_id": "fresh", "amount": "12.50"}, actor="tester"
        )
        assert reader.wait_for(result.last_position, timeout=30)
        assert reader.read_model("account_balances").rows["fresh"]["balance"] == 1250
    finally:
        stop.set()
        follower.join(timeout=30)
    assert not follower.is_alive()
    assert statuses[-1].checkpoint == store.head().position and statuses[-1].lag == 0
    assert ledger_projector(store).status().lease_owner is None  # released on the way out
    assert_same_states(persisted(projector), replayed(store))


def test_ctrl_c_while_following_stops_cleanly_and_a_restart_resumes(
    store: SqliteEventStore,
) -> None:
    first, second = slices(HISTORY, 200)
    store.append_bulk(first)
    projector = ledger_projector(store, batch=100)
    projector.catch_up()
    store.append_bulk(second)
    seen: list[int] = []

    def interrupt(status: Any) -> None:
        seen.append(status.checkpoint)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        projector.follow(0.01, on_status=interrupt)

    assert ledger_projector(store).status().lease_owner is None
    stopped_at = projector.checkpoint()
    assert 0 < stopped_at < store.head().position
    assert_same_states(persisted(projector), replayed(store, to=stopped_at))
    ledger_projector(store).catch_up()
    assert_same_states(persisted(projector), replayed(store))


def test_a_read_only_store_reads_the_read_models_but_never_writes(
    store: SqliteEventStore,
) -> None:
    store.append_bulk(HISTORY)
    ledger_projector(store).catch_up()
    read_only = SqliteEventStore(store.path, read_only=True)
    projector = ledger_projector(read_only)

    assert projector.status().role == "reader"
    assert_same_states(persisted(projector), replayed(store))
    with pytest.raises(Exception, match="read-only"):
        projector.catch_up()
    read_only.close()


# -- property: any command sequence, any batch size ----------------------------------------


@pytest.mark.parametrize("domain", CASES, ids=case_id)
@settings(
    # Per domain: the two together cost about what 25 ledger examples did alone.
    max_examples=13,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    rounds=st.lists(
        st.tuples(st.integers(0, 25), st.integers(1, 9), st.booleans()), min_size=1, max_size=5
    ),
)
def test_persisted_tables_equal_a_replay_for_any_commands_and_batches(
    domain: DomainCase, seed: int, rounds: list[tuple[int, int, bool]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = domain.new_store(Path(folder) / f"{domain.name}.db")
        _persisted_tables_equal_a_replay(domain, store, seed, rounds)


@pytest.mark.parametrize("domain", CASES, ids=case_id)
@settings(
    # Each example a new PostgreSQL database: fewer than on SQLite, the same property.
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    rounds=st.lists(
        st.tuples(st.integers(0, 25), st.integers(1, 9), st.booleans()), min_size=1, max_size=4
    ),
)
def test_persisted_tables_equal_a_replay_on_postgresql(
    domain: DomainCase,
    postgres_server: PostgresServer,
    seed: int,
    rounds: list[tuple[int, int, bool]],
) -> None:
    url = postgres_server.database()
    store = PostgresEventStore(url, create=True, domain=domain.name)
    _persisted_tables_equal_a_replay(domain, store, seed, rounds)


def _persisted_tables_equal_a_replay(
    domain: DomainCase, store: Any, seed: int, rounds: list[tuple[int, int, bool]]
) -> None:
    """Commands in rounds, each followed by a catch-up in batches of some size (and now
    and then a restarted projector): the tables always equal a replay, and a rebuild."""
    rng = random.Random(seed)
    projections = domain.projections
    bus = domain.bus(store)
    projector = domain.projector(store)
    for commands, batch, restart in rounds:
        domain.run_commands(bus, rng, commands)
        if restart:  # a new process, say: it must resume from the tables exactly
            projector.close()
            projector = domain.projector(store)
        projector.batch = batch
        projector.catch_up()
        assert_same_states(persisted(projector), replayed(store, projections))
    incremental = persisted(projector)
    projector.rebuild()
    assert_same_states(persisted(projector), incremental)
    models = projector.read_models()
    expected = with_refusals(store, incremental, models.position, projections)
    assert_same_states(models.states, expected)
    projector.close()
    store.close()
