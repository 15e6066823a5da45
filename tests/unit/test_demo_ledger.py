"""The ledger's demo story: accounts, currencies, actors, paydays, closures at zero,
balances that add up, the checked shortcut, and `write_demo` (the contract every demo
keeps is in test_demo.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

from domain.clock import parse_time
from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput, RuleRefused
from domain.ledger import CURRENCIES, HANDLERS, LEDGER, Withdraw
from domain.ledger.demo import ACTORS, generate_demo, write_demo
from domain.model import Context, Emit
from store.memory import InMemoryEventStore
from tests.unit.demo_support import (
    LEDGER_CASE,
    Item,
    commands_of,
    events_of,
    refusals_of,
    replay,
)

_events, _refusals, _commands = events_of, refusals_of, commands_of


def _history(events: int, seed: int = 7, check_every: int = 1) -> list[Item]:
    return list(generate_demo(events, seed, check_every=check_every))


@pytest.fixture(scope="module")
def history() -> list[Item]:
    # check_every=1: every shortcut is also decided by the real handlers.
    return _history(3000)


# -- the story -------------------------------------------------------------------------------


def test_every_event_is_on_the_stream_of_its_account(history: list[Item]) -> None:
    for event in _events(history):
        assert event.stream_type == "account"
        assert event.stream_id == f"account-{event.data.get('account_id') or _owner(event)}"


def _owner(event: PendingEvent) -> str:
    key = "from_account" if event.type == "TransferSent" else "to_account"
    return str(event.data[key])


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


def test_refusals_are_rare_and_carry_the_rules_reasons(history: list[Item]) -> None:
    refusals = _refusals(history)
    assert 0 < len(refusals) < len(history) // 20
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


def test_a_larger_history_generated_without_rechecks_replays_the_same() -> None:
    """Without re-checks of the shortcut, the replay through the real bus alone is the proof."""
    replay(LEDGER_CASE, _history(20_000, seed=11, check_every=0))


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
