"""The inventory's five projections, folded over hand-written histories.

Events are built as `RecordedEvent`s directly (no bus, no store), so each test states
exactly the history it folds, including histories the handlers would never write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from inventory_harness import (
    adjusted,
    closed,
    discontinued,
    moved,
    opened,
    place,
    received,
    registered,
    shipped,
    stocked,
)

from domain.envelope import RecordedEvent
from domain.inventory.demo import generate_demo
from domain.inventory.description import INVENTORY_DOMAIN
from domain.inventory.projections import (
    INVENTORY_PROJECTIONS,
    DailyMovements,
    Products,
    Shrinkage,
    StockInvariant,
    StockLevels,
)
from domain.messages import Event
from domain.projection import Projection, ProjectionState, fold
from store.memory import InMemoryEventStore

SKU = "BOLT-M8"


@dataclass
class History:
    """Builds recorded events one command at a time: positions, versions, times."""

    at: str = "2026-03-02T09:00:00.000000Z"
    events: list[RecordedEvent] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    commands: int = 0

    def command(self, *events: Event, actor: str = "ann", at: str = "") -> History:
        """Record one command's events, each on the stream it belongs to."""
        self.commands += 1
        if at:
            self.at = at
        command_id = f"cmd-{self.commands}"
        for event in events:
            aggregate, key = place(event)
            stream = aggregate.stream_id(key)
            self.versions[stream] = self.versions.get(stream, 0) + 1
            self.events.append(
                RecordedEvent(
                    position=len(self.events) + 1,
                    event_id=f"ev-{len(self.events) + 1}",
                    stream_id=stream,
                    stream_type=aggregate.stream_type,
                    version=self.versions[stream],
                    type=event.type_name,
                    schema_version=1,
                    data=event.payload(),
                    metadata={
                        "actor": actor,
                        "command_id": command_id,
                        "command_type": "test",
                        "correlation_id": command_id,
                        "causation_id": command_id,
                    },
                    recorded_at=self.at,
                    prev_hash="",
                    hash="",
                )
            )
        return self

    def each(self, *events: Event, actor: str = "ann") -> History:
        """Record each event as its own command."""
        for event in events:
            self.command(event, actor=actor)
        return self


def _fold(projection: Projection, events: list[RecordedEvent]) -> ProjectionState:
    state = projection.initial()
    for event in events:
        projection.apply(state, event)
    return state


def _changes(projection: Projection, events: list[RecordedEvent]) -> list[tuple[str, ...]]:
    """What `apply` said it changed, event by event; asserting it is exactly what changed."""
    state = projection.initial()
    said = []
    for event in events:
        before = {k: dict(v) for k, v in state.rows.items()}
        keys = tuple(projection.apply(state, event))
        actual = {
            k for k in state.rows.keys() | before.keys() if state.rows.get(k) != before.get(k)
        }
        assert set(keys) == actual, (event.position, event.type, keys, actual)
        assert len(keys) == len(set(keys))
        said.append(keys)
    return said


def _basic() -> History:
    history = History()
    history.command(registered(SKU, unit="box"), actor="catalog")
    history.command(*stocked(SKU, "ams", 100), actor="sanne")
    history.command(shipped(SKU, "ams", 30), actor="webshop")
    history.command(opened(SKU, "ber"), *moved(SKU, "ams", "ber", 20), actor="bot")
    history.command(adjusted(SKU, "ber", 18, 20, "units missing"), actor="jonas")
    return history


# --- products -----------------------------------------------------------------------------


def test_products_lists_the_catalog_with_status_and_warehouses() -> None:
    history = _basic()
    history.command(registered("NUT-M8", name="Hex nut", unit="pack"), at="2026-03-03T10:00:00Z")
    history.command(discontinued("NUT-M8", "delisted"), at="2026-03-04T10:00:00Z")
    state = _fold(Products(), history.events)
    assert state.rows == {
        SKU: {
            "sku": SKU,
            "name": "Hex bolt",
            "unit": "box",
            "status": "active",
            "warehouses": 2,
            "updated": "2026-03-02T09:00:00.000000Z",
        },
        "NUT-M8": {
            "sku": "NUT-M8",
            "name": "Hex nut",
            "unit": "pack",
            "status": "discontinued",
            "warehouses": 0,
            "updated": "2026-03-04T10:00:00Z",
        },
    }
    assert _changes(Products(), history.events) == [
        (SKU,), (SKU,), (), (), (SKU,), (), (), (), ("NUT-M8",), ("NUT-M8",)
    ]  # fmt: skip
    assert Products().lineage_streams(SKU) == ("product-BOLT-M8",)


def test_products_ignore_events_of_a_product_never_registered() -> None:
    history = History().command(opened("GHOST", "ams"), discontinued("GHOST"))
    assert _fold(Products(), history.events).rows == {}


# --- stock_levels -------------------------------------------------------------------------


def test_stock_levels_follow_receipts_orders_moves_and_counts() -> None:
    state = _fold(StockLevels(), _basic().events)
    ams, ber = state.rows["BOLT-M8@ams"], state.rows["BOLT-M8@ber"]
    assert (ams["on_hand"], ams["unit"], ams["status"], ams["movements"]) == (
        50,
        "box",
        "in stock",
        3,
    )
    assert (ber["on_hand"], ber["movements"]) == (18, 2)
    columns = {c.name: c for c in StockLevels().columns}
    assert columns["last_movement"].format(ams) == "moved 20 to ber"
    assert columns["last_movement"].format(ber) == "counted 18 (-2)"
    assert columns["on_hand"].format(ams) == "50"


def test_stock_levels_words_every_kind_of_movement() -> None:
    fmt = {c.name: c for c in StockLevels().columns}["last_movement"].format
    history = History().each(registered(SKU), *stocked(SKU, "ams", 1500))
    state = _fold(StockLevels(), history.events)
    assert fmt(state.rows["BOLT-M8@ams"]) == "received 1,500"
    history.each(shipped(SKU, "ams", 1500))
    state = _fold(StockLevels(), history.events)
    assert fmt(state.rows["BOLT-M8@ams"]) == "shipped 1,500"
    assert state.rows["BOLT-M8@ams"]["status"] == "empty"
    history.command(*moved(SKU, "ber", "ams", 3))
    state = _fold(StockLevels(), history.events)
    assert fmt(state.rows["BOLT-M8@ams"]) == "moved 3 from ber"
    history.command(discontinued(SKU), closed(SKU, "ams"))
    state = _fold(StockLevels(), history.events)
    assert fmt(state.rows["BOLT-M8@ams"]) == "closed (discontinued)"
    assert state.rows["BOLT-M8@ams"]["status"] == "closed"


def test_every_stock_event_changes_exactly_its_row() -> None:
    history = _basic()
    history.command(adjusted(SKU, "ams", 50, 50, "cycle count"), actor="sanne")
    history.command(shipped(SKU, "ams", 50), shipped(SKU, "ber", 18))
    history.command(discontinued(SKU), closed(SKU, "ams"), closed(SKU, "ber"))
    said = _changes(StockLevels(), history.events)
    assert said == [
        (), (), ("BOLT-M8@ams",), ("BOLT-M8@ams",), (), ("BOLT-M8@ams",), ("BOLT-M8@ber",),
        ("BOLT-M8@ber",), ("BOLT-M8@ams",), ("BOLT-M8@ams",), ("BOLT-M8@ber",), (),
        ("BOLT-M8@ams",), ("BOLT-M8@ber",),
    ]  # fmt: skip
    # The row's unit comes from the product's registration.
    assert StockLevels().lineage_streams("BOLT-M8@ams") == ("stock-BOLT-M8@ams", "product-BOLT-M8")


# --- daily_movements ----------------------------------------------------------------------


def test_daily_movements_add_up_each_day() -> None:
    history = _basic()
    history.command(received(SKU, "ams", 7), at="2026-03-03T00:00:00.000000Z")
    history.command(adjusted(SKU, "ams", 60, 57, "found"), at="2026-03-03T23:59:59.999999Z")
    state = _fold(DailyMovements(), history.events)
    assert state.rows == {
        "2026-03-02": {
            "day": "2026-03-02",
            "received": 100,
            "shipped": 30,
            "moved": 20,
            "adjusted": -2,
            "stock_takes": 1,
            "events": 8,
        },
        "2026-03-03": {
            "day": "2026-03-03",
            "received": 7,
            "shipped": 0,
            "moved": 0,
            "adjusted": 3,
            "stock_takes": 1,
            "events": 2,
        },
    }
    assert all(keys for keys in _changes(DailyMovements(), history.events))
    projection = DailyMovements()
    assert projection.lineage_streams("2026-03-02") is None
    assert projection.lineage_span("2026-03-02") == (
        "2026-03-02T00:00:00.000000Z",
        "2026-03-03T00:00:00.000000Z",
    )
    assert projection.lineage_span("garbage") is None
    adjusted_column = {c.name: c for c in projection.columns}["adjusted"]
    assert adjusted_column.format(state.rows["2026-03-02"]) == "-2"
    assert adjusted_column.format(state.rows["2026-03-03"]) == "+3"


def test_daily_movements_ignore_other_domains_events() -> None:
    event = History().command(registered(SKU)).events[0]
    event.type = "MoneyDeposited"
    assert DailyMovements().apply(DailyMovements().initial(), event) == ()


# --- shrinkage ----------------------------------------------------------------------------


def test_shrinkage_audits_counts_by_warehouse_and_actor() -> None:
    history = _basic()  # jonas found 2 missing at ber
    history.command(adjusted(SKU, "ams", 45, 50, "damaged"), actor="sanne")
    history.command(adjusted(SKU, "ams", 46, 45, "found"), actor="sanne")
    history.command(adjusted(SKU, "ams", 46, 46, "cycle count"), actor="sanne")
    history.command(adjusted(SKU, "ams", 30, 46, "theft"), actor="auditor:pia")
    state = _fold(Shrinkage(), history.events)
    assert set(state.rows) == {"ber jonas", "ams sanne", "ams auditor:pia"}
    sanne = state.rows["ams sanne"]
    assert {k: sanne[k] for k in ("counts", "exact", "lost", "found", "net", "worst")} == {
        "counts": 3,
        "exact": 1,
        "lost": 5,
        "found": 1,
        "net": -4,
        "worst": 5,
    }
    columns = {c.name: c for c in Shrinkage().columns}
    assert columns["worst"].format(state.rows["ams auditor:pia"]) == "16 BOLT-M8"
    assert columns["net"].format(sanne) == "-4"
    said = _changes(Shrinkage(), history.events)
    assert said[-1] == ("ams auditor:pia",) and said[0] == ()


# --- stock_invariant ----------------------------------------------------------------------


def test_the_invariant_holds_through_receipts_orders_moves_and_counts() -> None:
    history = _basic()
    state = _fold(StockInvariant(), history.events)
    assert state.rows[SKU] == {
        "sku": SKU,
        "status": "active",
        "received": 100,
        "shipped": 30,
        "adjusted": -2,
        "on_hand": 68,
        "in_transit": 0,
        "invariant": "holding",
    }


def test_the_invariant_reads_moving_between_the_halves_of_a_move() -> None:
    history = History().each(registered(SKU)).command(*stocked(SKU, "ams", 10))
    history.command(opened(SKU, "ber"), *moved(SKU, "ams", "ber", 4))
    projection = StockInvariant()
    state = projection.initial()
    seen = []
    for event in history.events:
        projection.apply(state, event)
        seen.append((state.rows[SKU]["invariant"], state.rows[SKU]["in_transit"]))
    assert seen[-2:] == [("moving", 4), ("holding", 0)]


def test_an_unmatched_move_half_breaks_the_invariant_once_its_command_ends() -> None:
    out, _ = moved(SKU, "ams", "ber", 4)
    history = History().each(registered(SKU)).command(*stocked(SKU, "ams", 10))
    history.command(out)  # imported without its StockMovedIn
    history.command(received(SKU, "ams", 1))
    said = _changes(StockInvariant(), history.events)
    state = _fold(StockInvariant(), history.events)
    assert state.rows[SKU]["invariant"] == "broken"
    assert said[-2:] == [(SKU,), (SKU,)]
    # Stopping right after the half, within its command, it is only moving.
    assert _fold(StockInvariant(), history.events[:-1]).rows[SKU]["invariant"] == "moving"


def test_an_unmatched_half_breaks_its_sku_even_when_another_sku_moves_next() -> None:
    out, _ = moved(SKU, "ams", "ber", 4)
    history = History().each(registered(SKU), registered("NUT-M8"))
    history.command(*stocked(SKU, "ams", 10)).command(*stocked("NUT-M8", "ams", 3))
    history.command(out).command(received("NUT-M8", "ams", 1))
    said = _changes(StockInvariant(), history.events)
    assert said[-1] == (SKU, "NUT-M8")  # the new command closes the pending half first
    assert _fold(StockInvariant(), history.events).rows[SKU]["invariant"] == "broken"


def test_an_adjustment_that_misstates_the_books_breaks_the_invariant() -> None:
    history = History().each(registered(SKU)).command(*stocked(SKU, "ams", 10))
    history.command(adjusted(SKU, "ams", 8, 9, "count"))  # the books said 10, not 9
    state = _fold(StockInvariant(), history.events)
    assert (state.rows[SKU]["on_hand"], state.rows[SKU]["adjusted"]) == (8, -1)
    assert state.rows[SKU]["invariant"] == "broken"


def test_a_count_that_confirms_the_books_changes_no_row() -> None:
    history = History().each(registered(SKU)).command(*stocked(SKU, "ams", 10))
    history.command(adjusted(SKU, "ams", 10, 10, "count"))
    assert _changes(StockInvariant(), history.events)[-1] == ()


def test_movements_of_an_unregistered_sku_show_up_rather_than_crash() -> None:
    history = History().command(received("GHOST", "ams", 5)).command(discontinued("GHOST"))
    history.command(registered("GHOST")).command(registered("GHOST"))
    said = _changes(StockInvariant(), history.events)
    state = _fold(StockInvariant(), history.events)
    assert state.rows["GHOST"]["status"] == "active"
    assert said == [("GHOST",), ("GHOST",), ("GHOST",), ()]


def test_discontinuing_shows_in_the_invariant_row() -> None:
    history = History().each(registered(SKU), discontinued(SKU), discontinued(SKU))
    said = _changes(StockInvariant(), history.events)
    assert said == [(SKU,), (SKU,), ()]
    assert StockInvariant().lineage_streams(SKU) is None


# --- over a whole demo history ------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_events() -> list[RecordedEvent]:
    store = InMemoryEventStore()
    store.append_bulk(generate_demo(2500, 3))
    return store.read_all()


@pytest.mark.parametrize("name", [p.name for p in INVENTORY_PROJECTIONS])
def test_apply_reports_exactly_the_rows_it_changed(
    demo_events: list[RecordedEvent], name: str
) -> None:
    _changes(INVENTORY_DOMAIN.projection(name), demo_events)


def test_every_column_formats_every_row(demo_events: list[RecordedEvent]) -> None:
    states = fold(INVENTORY_PROJECTIONS, demo_events)
    for projection in INVENTORY_PROJECTIONS:
        rows = states[projection.name].rows
        assert rows, projection.name
        names = [c.name for c in projection.columns]
        assert len(names) == len(set(names))
        for row in rows.values():
            for column in projection.columns:
                text = column.format(row)
                assert isinstance(text, str) and "\n" not in text
                assert column.name in row or column.name == "last_movement"


def test_the_invariant_holds_for_every_product_of_a_demo(demo_events: list[RecordedEvent]) -> None:
    rows = fold([StockInvariant()], demo_events)["stock_invariant"].rows
    assert {row["invariant"] for row in rows.values()} == {"holding"}
    levels = fold([StockLevels()], demo_events)["stock_levels"].rows
    for sku, row in rows.items():
        assert row["on_hand"] == sum(r["on_hand"] for r in levels.values() if r["sku"] == sku)


def test_the_domain_describes_its_projections_in_panel_order() -> None:
    assert [p.name for p in INVENTORY_DOMAIN.projections] == [
        "products",
        "stock_levels",
        "daily_movements",
        "shrinkage",
        "stock_invariant",
    ]
    assert all(p.title and p.key_title and p.columns for p in INVENTORY_DOMAIN.projections)


@pytest.mark.parametrize(
    ("events", "line"),
    [
        ([registered(SKU, "box")], "registered BOLT-M8: Hex bolt (per box)"),
        ([opened(SKU, "ams")], "BOLT-M8 now stocked at ams"),
        ([received(SKU, "ams", 1200, "DN-7")], "+1,200 BOLT-M8 into ams · DN-7"),
        ([shipped(SKU, "ams", 3, "SO-9")], "-3 BOLT-M8 from ams · SO-9"),
        ([moved(SKU, "ams", "ber", 4)[0]], "4 BOLT-M8 ams → ber (out)"),
        ([moved(SKU, "ams", "ber", 4)[1]], "4 BOLT-M8 ams → ber (in)"),
        (
            [adjusted(SKU, "ams", 8, 10, "damaged")],
            "counted 8 BOLT-M8 at ams (books 10, -2): damaged",
        ),
        (
            [adjusted(SKU, "ams", 10, 10, "count")],
            "counted 10 BOLT-M8 at ams (books 10, ±0): count",
        ),
        ([closed(SKU, "ams")], "closed the stock record of BOLT-M8 at ams"),
        ([discontinued(SKU, "old")], "discontinued BOLT-M8: old"),
    ],
)
def test_each_event_has_a_one_line_summary(events: list[Event], line: str) -> None:
    event = History().command(*events).events[0]
    assert INVENTORY_DOMAIN.summary(event) == line


def test_an_odd_payload_falls_back_to_its_fields() -> None:
    event = History().command(registered(SKU)).events[0]
    event.type = "SomethingNew"
    assert INVENTORY_DOMAIN.summary(event) == "sku=BOLT-M8 name=Hex bolt unit=each"
    odd: dict[str, Any] = {"sku": SKU}
    event.type, event.data = "StockReceived", odd
    assert INVENTORY_DOMAIN.summary(event) == "sku=BOLT-M8"
