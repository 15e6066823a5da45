"""The demo history: deterministic, exactly sized, realistic, and faithful to the rules.

The key test replays every generated command (refused ones too) through the real
`CommandBus` on the in-memory store, and expects the very same events, ids, times and
refusal reasons: so every event the generator writes is one the ledger would record.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from domain.bus import CommandBus
from domain.clock import format_time, parse_time
from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput, RuleRefused
from domain.ledger import CURRENCIES, HANDLERS, LEDGER, Withdraw
from domain.ledger.demo import ACTORS, generate_demo, write_demo
from domain.model import Context, Emit
from store.memory import InMemoryEventStore

Item = PendingEvent | Refusal


def _history(events: int, seed: int = 7, check_every: int = 1) -> list[Item]:
    return list(generate_demo(events, seed, check_every=check_every))


@pytest.fixture(scope="module")
def history() -> list[Item]:
    # check_every=1: every shortcut is also decided by the real handlers.
    return _history(3000)


def _events(items: list[Item]) -> list[PendingEvent]:
    return [item for item in items if isinstance(item, PendingEvent)]


def _refusals(items: list[Item]) -> list[Refusal]:
    return [item for item in items if isinstance(item, Refusal)]


def _commands(items: list[Item]) -> Iterator[list[PendingEvent] | Refusal]:
    """The history command by command: a command's events, or its refusal."""
    group: list[PendingEvent] = []
    for item in items:
        if group and (isinstance(item, Refusal) or item.command is not None):
            yield group
            group = []
        if isinstance(item, Refusal):
            yield item
        else:
            group.append(item)
    if group:
        yield group


# -- determinism and shape -------------------------------------------------------------------


def test_same_seed_gives_identical_history(history: list[Item]) -> None:
    assert _history(3000, check_every=0) == history


def test_different_seed_gives_different_history(history: list[Item]) -> None:
    other = _history(3000, seed=8, check_every=0)
    assert [e.data for e in _events(other)] != [e.data for e in _events(history)]


@pytest.mark.parametrize("events", [0, 1, 2, 3, 57, 1234])
def test_exactly_the_requested_number_of_events(events: int) -> None:
    assert len(_events(_history(events, seed=events))) == events


def test_negative_size_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="events must be 0 or more"):
        generate_demo(-1, 1)


def test_times_are_format_time_strings_that_never_go_back(history: list[Item]) -> None:
    times = [item.recorded_at for item in history]
    assert times == sorted(times)
    assert all(format_time(parse_time(t)) == t for t in times)
    assert times[0] == "2026-01-05T08:00:00.000000Z"


def test_start_moves_the_whole_history() -> None:
    items = list(generate_demo(50, 1, start="2025-06-02T09:30:00Z"))
    assert items[0].recorded_at == "2025-06-02T09:30:00.000000Z"


def test_versions_run_from_one_without_gaps_per_stream(history: list[Item]) -> None:
    versions: dict[str, list[int]] = defaultdict(list)
    for event in _events(history):
        versions[event.stream_id].append(event.version)
        assert event.stream_type == "account"
        assert event.stream_id == f"account-{event.data.get('account_id') or _owner(event)}"
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())


def _owner(event: PendingEvent) -> str:
    key = "from_account" if event.type == "TransferSent" else "to_account"
    return str(event.data[key])


def test_event_and_command_ids_are_unique_uuids(history: list[Item]) -> None:
    events = _events(history)
    ids = [e.event_id for e in events] + [
        e.data["transfer_id"] for e in events[::1] if e.type == "TransferSent"
    ]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 36 and i[14] == "4" and i[19] in "89ab" for i in ids)
    commands = [
        g[0].metadata["command_id"] if isinstance(g, list) else g.command_id
        for g in _commands(history)
    ]
    assert len(commands) == len(set(commands))


def test_the_command_payload_is_on_the_first_event_of_each_command(history: list[Item]) -> None:
    for group in _commands(history):
        if isinstance(group, list):
            assert group[0].command is not None
            assert all(e.command is None for e in group[1:])
            assert len({e.metadata["command_id"] for e in group}) == 1


def test_every_currency_and_many_actors_appear(history: list[Item]) -> None:
    opened = [e for e in _events(history) if e.type == "AccountOpened"]
    assert {e.data["currency"] for e in opened} == set(CURRENCIES)
    assert len(opened) == 20  # at least MIN_ACCOUNTS, about one per 300 events
    actors = {
        item.actor if isinstance(item, Refusal) else item.metadata["actor"] for item in history
    }
    assert actors <= set(ACTORS)
    assert len(actors) >= 10


def test_accounts_scale_with_size() -> None:
    opened = [e for e in _events(_history(30_000, check_every=0)) if e.type == "AccountOpened"]
    assert len(opened) == 100


def test_every_event_type_appears(history: list[Item]) -> None:
    assert {e.type for e in _events(history)} == set(LEDGER.catalog.types)


def test_refusals_carry_reasons_and_their_position(history: list[Item]) -> None:
    refusals = _refusals(history)
    assert 0 < len(refusals) < len(history) // 20
    position = 0
    for item in history:
        if isinstance(item, PendingEvent):
            position += 1
        else:
            assert item.at_position == position
            assert item.reason and item.code in ("refused", "not_found")
    reasons = " ".join(r.reason for r in refusals)
    assert "beyond its overdraft limit" in reasons
    assert "is frozen" in reasons


def test_history_has_business_hours_nights_weekends_and_paydays() -> None:
    events = _events(_history(40_000, check_every=0))
    hours = Counter(int(e.recorded_at[11:13]) for e in events)
    assert hours[12] > 5 * hours[3]  # lunchtime is busy, the small hours are quiet
    days = Counter(parse_time(e.recorded_at).weekday() for e in events)
    assert days[2] > 2 * days[6]  # a Wednesday is busier than a Sunday
    salaries = [e for e in events if e.metadata["actor"] == "payroll-bot"]
    assert salaries and {e.recorded_at[:10] for e in salaries} == {"2026-01-30", "2026-02-27"}
    # one payroll run shares one correlation id
    assert len({e.metadata["correlation_id"] for e in salaries}) == 2


# -- the rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["fixture", "larger"])
def test_replaying_the_commands_through_the_real_bus_gives_the_same_history(
    history: list[Item], size: str
) -> None:
    # The larger one is generated without re-checks: the replay alone is the proof.
    if size == "larger":
        history = _history(20_000, seed=11, check_every=0)
    now = [""]
    ids: list[str] = []

    class Replayed:
        """The bus's clock and id source, handing out what the history recorded."""

        def now(self) -> str:
            return now[0]

        def new_id(self) -> str:
            return ids.pop(0)

    store = InMemoryEventStore(clock=Replayed())
    bus = CommandBus(store, LEDGER, clock=Replayed(), ids=Replayed())
    replayed_events = 0
    for group in _commands(history):
        if isinstance(group, Refusal):
            now[0] = group.recorded_at
            command = LEDGER.parse_command(group.command_type, group.command)
            with pytest.raises(RuleRefused) as refused:
                bus.execute(command, actor=group.actor, command_id=group.command_id)
            assert (refused.value.message, refused.value.code) == (group.reason, group.code)
            continue
        first = group[0]
        assert first.command is not None
        meta = first.metadata
        now[0] = first.recorded_at
        ids[:] = [e.data["transfer_id"] for e in group if e.type == "TransferSent"]
        ids += [e.event_id for e in group]
        command = LEDGER.parse_command(meta["command_type"], first.command)
        assert command.payload() == first.command
        result = bus.execute(
            command,
            actor=meta["actor"],
            command_id=meta["command_id"],
            correlation_id=meta["correlation_id"],
            causation_id=meta["causation_id"],
        )
        assert not ids
        recorded = [
            (
                e.event_id,
                e.stream_id,
                e.stream_type,
                e.version,
                e.type,
                e.schema_version,
                e.data,
                e.metadata,
                e.recorded_at,
            )
            for e in result.events
        ]
        generated = [
            (
                e.event_id,
                e.stream_id,
                e.stream_type,
                e.version,
                e.type,
                e.schema_version,
                e.data,
                e.metadata,
                e.recorded_at,
            )
            for e in group
        ]
        assert recorded == generated
        replayed_events += len(group)
    assert replayed_events == len(_events(history))
    assert store.verify().ok


def test_closures_happen_only_at_zero_balance(history: list[Item]) -> None:
    balances: dict[str, int] = defaultdict(int)
    closed = 0
    for event in _events(history):
        if event.type in ("MoneyDeposited", "TransferReceived"):
            balances[event.stream_id] += event.data["amount"]
        elif event.type in ("MoneyWithdrawn", "TransferSent"):
            balances[event.stream_id] -= event.data["amount"]
        elif event.type == "AccountClosed":
            assert balances[event.stream_id] == 0
            closed += 1
    assert closed >= 1


def test_balances_add_up_per_currency_and_some_go_into_overdraft(history: list[Item]) -> None:
    currency: dict[str, str] = {}
    balances: dict[str, int] = defaultdict(int)
    deposited: Counter[str] = Counter()
    withdrawn: Counter[str] = Counter()
    entered_overdraft = 0
    for event in _events(history):
        data, stream = event.data, event.stream_id
        if event.type == "AccountOpened":
            currency[stream] = data["currency"]
            continue
        if event.type in ("MoneyDeposited", "TransferReceived", "MoneyWithdrawn", "TransferSent"):
            assert data["currency"] == currency[stream]
        before = balances[stream]
        if event.type in ("MoneyDeposited", "TransferReceived"):
            balances[stream] += data["amount"]
        elif event.type in ("MoneyWithdrawn", "TransferSent"):
            balances[stream] -= data["amount"]
        if event.type == "MoneyDeposited":
            deposited[data["currency"]] += data["amount"]
        elif event.type == "MoneyWithdrawn":
            withdrawn[data["currency"]] += data["amount"]
        entered_overdraft += before >= 0 > balances[stream]
    for code in CURRENCIES:
        total = sum(b for s, b in balances.items() if currency[s] == code)
        assert total == deposited[code] - withdrawn[code]
    assert entered_overdraft > 0


def test_the_shortcut_check_catches_a_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the shortcut ever wrote what the handler would not, generation stops loudly."""

    def closed_today(command: Any, ctx: Context) -> list[Emit]:
        raise RuleRefused("withdrawals are closed today")

    monkeypatch.setitem(HANDLERS, Withdraw, closed_today)  # LEDGER.handlers is HANDLERS
    with pytest.raises(AssertionError, match="the ledger refuses: withdrawals are closed today"):
        _history(500)


# -- writing into a store ------------------------------------------------------------------


def test_write_demo_loads_events_and_refusals_at_their_positions() -> None:
    items = _history(1500, seed=3, check_every=0)
    store = InMemoryEventStore()
    calls: list[tuple[int, int]] = []
    head = write_demo(store, 1500, 3, progress=lambda done, total: calls.append((done, total)))
    assert head == store.head() and head.position == 1500
    stored = store.read_all()
    assert [(e.event_id, e.data, e.recorded_at) for e in stored] == [
        (e.event_id, e.data, e.recorded_at) for e in _events(items)
    ]
    kept = sorted(store.refusals(), key=lambda r: r.id)
    assert [(r.command_id, r.at_position, r.reason, r.recorded_at) for r in kept] == [
        (r.command_id, r.at_position, r.reason, r.recorded_at) for r in _refusals(items)
    ]
    assert calls[-1] == (1500, 1500)
    assert store.verify().ok


def test_write_demo_refuses_a_store_that_is_not_empty() -> None:
    store = InMemoryEventStore()
    write_demo(store, 10, 1)
    with pytest.raises(InvalidInput, match="already holds 10 events"):
        write_demo(store, 10, 1)
    assert store.head().position == 10


def test_generation_is_lazy() -> None:
    """A caller can stream a huge history: nothing is generated before it is asked for."""
    first = list(itertools.islice(generate_demo(10_000_000, 1), 5))
    assert len(first) == 5


def test_history_does_not_depend_on_the_process_hash_seed() -> None:
    """Nothing iterates a set or relies on hash order: two interpreters agree byte for byte."""
    code = (
        "import hashlib, orjson\n"
        "from dataclasses import asdict\n"
        "from domain.ledger.demo import generate_demo\n"
        "h = hashlib.sha256()\n"
        "for item in generate_demo(4000, 123): h.update(orjson.dumps(asdict(item)))\n"
        "print(h.hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
