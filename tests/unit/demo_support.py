"""What the demo suites share: a demo history cut into commands, and its replay
through the real `CommandBus`, which must give the very same events, ids, times and
refusal reasons (so every event a generator writes is one the domain would record)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from domain.bus import CommandBus
from domain.envelope import PendingEvent, Refusal
from domain.errors import RuleRefused
from domain.inventory import INVENTORY
from domain.inventory.demo import DEFAULT_START as INVENTORY_START
from domain.inventory.demo import generate_demo as inventory_demo
from domain.ledger import LEDGER
from domain.ledger.demo import DEFAULT_START as LEDGER_START
from domain.ledger.demo import generate_demo as ledger_demo
from domain.model import DomainModel
from store.memory import InMemoryEventStore

Item = PendingEvent | Refusal


@dataclass(frozen=True)
class DemoCase:
    """One domain's demo generator, as the shared suite drives it."""

    name: str
    model: DomainModel
    generate: Callable[..., Iterator[Item]]
    start: str
    size: int
    """Events in the suite's history (large enough for every kind of event)."""
    seed: int
    handler_id: tuple[str, str]
    """(event type, data field) of the id a handler draws: the bus draws it first."""
    options: tuple[tuple[str, Any], ...] = ()

    def history(self, events: int | None = None, seed: int | None = None) -> list[Item]:
        size = self.size if events is None else events
        return list(self.generate(size, self.seed if seed is None else seed, **dict(self.options)))


LEDGER_CASE = DemoCase(
    "ledger", LEDGER, ledger_demo, LEDGER_START, 3000, 7, ("TransferSent", "transfer_id"),
    # check_every=1: every shortcut is also decided by the real handlers.
    (("check_every", 1),),
)  # fmt: skip
INVENTORY_CASE = DemoCase(
    "inventory", INVENTORY, inventory_demo, INVENTORY_START, 20_000, 11,
    ("StockMovedOut", "move_id"),
)  # fmt: skip
CASES = (LEDGER_CASE, INVENTORY_CASE)


def events_of(items: list[Item]) -> list[PendingEvent]:
    return [item for item in items if isinstance(item, PendingEvent)]


def refusals_of(items: list[Item]) -> list[Refusal]:
    return [item for item in items if isinstance(item, Refusal)]


def commands_of(items: list[Item]) -> Iterator[list[PendingEvent] | Refusal]:
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


def _row(event: object) -> tuple[object, ...]:
    return tuple(
        getattr(event, name)
        for name in ("event_id", "stream_id", "stream_type", "version", "type",
                     "schema_version", "data", "metadata", "recorded_at")
    )  # fmt: skip


def replay(case: DemoCase, history: list[Item]) -> InMemoryEventStore:
    """Every command of `history` through the real bus, handed the recorded ids and
    times; asserts each gives the very same events or refusal. Returns the store."""
    now = [""]
    ids: list[str] = []

    class Replayed:
        """The bus's clock and id source, handing out what the history recorded."""

        def now(self) -> str:
            return now[0]

        def new_id(self) -> str:
            return ids.pop(0)

    store = InMemoryEventStore(clock=Replayed())
    bus = CommandBus(store, case.model, clock=Replayed(), ids=Replayed())
    drawn_by, field = case.handler_id
    replayed = 0
    for group in commands_of(history):
        if isinstance(group, Refusal):
            now[0] = group.recorded_at
            command = case.model.parse_command(group.command_type, group.command)
            with pytest.raises(RuleRefused) as refused:
                bus.execute(command, actor=group.actor, command_id=group.command_id)
            assert (refused.value.message, refused.value.code) == (group.reason, group.code)
            continue
        first = group[0]
        assert first.command is not None
        meta = first.metadata
        now[0] = first.recorded_at
        ids[:] = [e.data[field] for e in group if e.type == drawn_by]
        # Handlers emit in stream order, so event ids are drawn in stored order.
        ids += [e.event_id for e in group]
        command = case.model.parse_command(meta["command_type"], first.command)
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
    assert replayed == len(events_of(history))
    assert store.verify().ok
    return store
