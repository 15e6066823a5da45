"""The inventory demo history: deterministic, exactly sized, realistic, and faithful to the rules.

The key test replays every generated command (refused ones too) through the real
`CommandBus` on the in-memory store, and expects the very same events, ids, times and
refusal reasons: so every event the generator writes is one the inventory would record.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import islice

import pytest

from domain.bus import CommandBus
from domain.clock import format_time, parse_time
from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput, RuleRefused
from domain.inventory import INVENTORY, split_stock_key
from domain.inventory.demo import ACTORS, generate_demo
from domain.inventory.projections import INVENTORY_PROJECTIONS
from domain.projection import fold
from store.memory import InMemoryEventStore

Item = PendingEvent | Refusal


def _history(events: int, seed: int = 7) -> list[Item]:
    return list(generate_demo(events, seed))


@pytest.fixture(scope="module")
def history() -> list[Item]:
    return _history(20_000, seed=11)


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
    assert _history(20_000, seed=11) == history


def test_different_seed_gives_different_history() -> None:
    assert [e.data for e in _events(_history(2000, 1))] != [
        e.data for e in _events(_history(2000, 2))
    ]


@pytest.mark.parametrize("events", [0, 1, 2, 3, 57, 1234])
def test_exactly_the_requested_number_of_events(events: int) -> None:
    assert len(_events(_history(events, seed=events))) == events


def test_the_history_holds_exactly_its_size(history: list[Item]) -> None:
    assert len(_events(history)) == 20_000


def test_negative_size_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="events must be 0 or more"):
        generate_demo(-1, 1)


def test_generation_is_lazy() -> None:
    assert len(list(islice(generate_demo(10_000_000, 1), 5))) == 5


def test_times_are_format_time_strings_that_never_go_back(history: list[Item]) -> None:
    times = [item.recorded_at for item in history]
    assert times == sorted(times)
    assert all(format_time(parse_time(t)) == t for t in times[:: len(times) // 500])
    assert times[0] == "2026-01-05T06:00:00.000000Z"
    moved = list(generate_demo(5, 1, start="2025-06-02T09:30:00Z"))
    assert moved[0].recorded_at == "2025-06-02T09:30:00.000000Z"


def test_versions_run_from_one_per_stream_and_streams_match_payloads(history: list[Item]) -> None:
    versions: dict[str, list[int]] = defaultdict(list)
    for event in _events(history):
        versions[event.stream_id].append(event.version)
        data = event.data
        if event.stream_type == "product":
            assert event.stream_id == f"product-{data['sku']}"
        else:
            assert event.stream_type == "stock"
            sku, warehouse = split_stock_key(event.stream_id.removeprefix("stock-"))
            assert sku == data["sku"]
            assert warehouse == {
                "StockMovedOut": data.get("from_warehouse"),
                "StockMovedIn": data.get("to_warehouse"),
            }.get(event.type, data.get("warehouse"))
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())


def test_ids_are_unique_uuids_and_commands_are_kept_once(history: list[Item]) -> None:
    events = _events(history)
    ids = [e.event_id for e in events] + [
        e.data["move_id"] for e in events if e.type == "StockMovedOut"
    ]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 36 and i[14] == "4" and i[19] in "89ab" for i in ids)
    commands = [g[0].metadata["command_id"] if isinstance(g, list) else g.command_id
                for g in _commands(history)]  # fmt: skip
    assert len(commands) == len(set(commands))
    for group in _commands(history):
        if isinstance(group, list):
            assert group[0].command is not None
            assert all(e.command is None for e in group[1:])


def test_a_realistic_mix(history: list[Item]) -> None:
    events = _events(history)
    kinds = Counter(e.type for e in events)
    assert set(kinds) == set(INVENTORY.catalog.types)
    assert kinds["StockShipped"] > len(events) * 0.6
    assert kinds["StockMovedOut"] == kinds["StockMovedIn"] > 100
    assert kinds["ProductDiscontinued"] >= 2
    assert kinds["ProductRegistered"] == 66  # one product per 300 events
    actors = Counter(item.metadata["actor"] if isinstance(item, PendingEvent) else item.actor
                     for item in history)  # fmt: skip
    assert set(actors) <= set(ACTORS) and len(actors) >= 12
    warehouses = {e.data["warehouse"] for e in events if e.type == "StockLocationOpened"}
    assert len(warehouses) == 6
    signs = [
        (d > 0) - (d < 0)
        for e in events
        if e.type == "StockAdjusted"
        for d in [e.data["difference"]]
    ]
    differences = Counter(signs)
    assert differences[0] > differences[-1] > differences[1] > 0  # shrinkage outweighs finds


def test_days_have_a_rhythm(history: list[Item]) -> None:
    events = _events(history)
    hours = Counter(int(e.recorded_at[11:13]) for e in events if e.type == "StockShipped")
    assert hours[15] > 5 * hours[3]  # afternoons are busy, nights are quiet
    days = Counter(parse_time(e.recorded_at).weekday() for e in events)
    assert days[2] > 3 * days[6]  # a Wednesday is busier than a Sunday
    receipts = [e for e in events if e.type == "StockReceived"]
    assert all(int(e.recorded_at[11:13]) < 12 for e in receipts[100:])  # deliveries: mornings
    bot = [e for e in events if e.metadata["actor"] == "replenishment-bot"]
    runs = {e.metadata["correlation_id"] for e in bot}
    assert 10 < len(runs) < len(bot) // 2  # nightly runs share a correlation id
    assert {int(e.recorded_at[11:13]) for e in bot} <= {1, 2, 3, 4, 5}


def test_refusals_carry_the_rules_reasons_and_their_position(history: list[Item]) -> None:
    refusals = _refusals(history)
    assert 0 < len(refusals) < len(history) // 40
    position = 0
    for item in history:
        if isinstance(item, PendingEvent):
            position += 1
        else:
            assert item.at_position == position
            assert item.code in ("refused", "not_found")
    reasons = " ".join(r.reason for r in refusals)
    for expected in ("on hand", "to itself", "is not registered", "already registered",
                     "never stocked at", "still holds stock"):  # fmt: skip
        assert expected in reasons


def test_discontinued_products_end_with_no_stock_and_nothing_after(history: list[Item]) -> None:
    on_hand: Counter[str] = Counter()
    gone: set[str] = set()
    for event in _events(history):
        sku = event.data["sku"]
        assert sku not in gone or event.type == "StockLocationClosed", event
        if event.type in ("StockReceived", "StockMovedIn"):
            on_hand[sku] += event.data["quantity"]
        elif event.type in ("StockShipped", "StockMovedOut"):
            on_hand[sku] -= event.data["quantity"]
        elif event.type == "StockAdjusted":
            on_hand[sku] += event.data["difference"]
        elif event.type == "ProductDiscontinued":
            assert on_hand[sku] == 0
            gone.add(sku)
    assert len(gone) >= 2


# -- the rules -----------------------------------------------------------------------------


def test_replaying_the_commands_through_the_real_bus_gives_the_same_history(
    history: list[Item],
) -> None:
    now = [""]
    ids: list[str] = []

    class Replayed:
        """The bus's clock and id source, handing out what the history recorded."""

        def now(self) -> str:
            return now[0]

        def new_id(self) -> str:
            return ids.pop(0)

    store = InMemoryEventStore(clock=Replayed())
    bus = CommandBus(store, INVENTORY, clock=Replayed(), ids=Replayed())
    replayed = 0
    for group in _commands(history):
        if isinstance(group, Refusal):
            now[0] = group.recorded_at
            command = INVENTORY.parse_command(group.command_type, group.command)
            with pytest.raises(RuleRefused) as refused:
                bus.execute(command, actor=group.actor, command_id=group.command_id)
            assert (refused.value.message, refused.value.code) == (group.reason, group.code)
            continue
        first = group[0]
        assert first.command is not None
        meta = first.metadata
        now[0] = first.recorded_at
        ids[:] = [e.data["move_id"] for e in group if e.type == "StockMovedOut"]
        # Handlers emit in stream order (a new warehouse's StockLocationOpened first; a
        # discontinuation before its closings), so event ids are drawn in stored order.
        ids += [e.event_id for e in group]
        command = INVENTORY.parse_command(meta["command_type"], first.command)
        assert command.payload() == first.command
        result = bus.execute(
            command,
            actor=meta["actor"],
            command_id=meta["command_id"],
            correlation_id=meta["correlation_id"],
            causation_id=meta["causation_id"],
        )
        assert not ids
        assert [_row(e) for e in result.events] == [_row(e) for e in group]
        replayed += len(group)
    assert replayed == len(_events(history))
    assert store.verify().ok
    # ... and the invariant holds at the end, for every product.
    states = fold(INVENTORY_PROJECTIONS, store.read_all())
    rows = states["stock_invariant"].rows
    assert len(rows) == 66 and {r["invariant"] for r in rows.values()} == {"holding"}


def _row(event: object) -> tuple[object, ...]:
    return tuple(
        getattr(event, name)
        for name in ("event_id", "stream_id", "stream_type", "version", "type",
                     "schema_version", "data", "metadata", "recorded_at")
    )  # fmt: skip


def test_history_does_not_depend_on_the_process_hash_seed() -> None:
    """Nothing iterates a set or relies on hash order: two interpreters agree byte for byte."""
    code = (
        "import hashlib, orjson\n"
        "from dataclasses import asdict\n"
        "from domain.inventory.demo import generate_demo\n"
        "h = hashlib.sha256()\n"
        "for item in generate_demo(3000, 123): h.update(orjson.dumps(asdict(item)))\n"
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
