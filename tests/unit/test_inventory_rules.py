"""Every rule of the inventory, accepted and refused, as given/when/then; and its races."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from inventory_harness import (
    adjusted,
    closed,
    discontinued,
    given,
    moved,
    opened,
    received,
    registered,
    shipped,
    stocked,
)
from pydantic import ValidationError

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.envelope import AppendResult, Metadata, StreamAppend
from domain.errors import InvalidInput, NotFound, RuleRefused
from domain.inventory import (
    CATALOG,
    COMMANDS,
    EVENTS,
    HANDLERS,
    INVENTORY,
    MAX_QUANTITY,
    PRODUCT,
    STOCK,
    UNITS,
    AdjustStock,
    DiscontinueProduct,
    MoveStock,
    Product,
    ReceiveStock,
    RegisterProduct,
    ShipStock,
    Stock,
    StockReceived,
    evolve_product,
    evolve_stock,
    split_stock_key,
    stock_key,
)
from domain.messages import Command, Event
from store.memory import InMemoryEventStore

SKU = "BOLT-M8"


def _stocked(*levels: tuple[str, int]) -> list[Event]:
    """A registered BOLT-M8 with `quantity` received at each (warehouse, quantity)."""
    events: list[Event] = [registered(SKU)]
    for warehouse, quantity in levels:
        events += stocked(SKU, warehouse, quantity) if quantity else [opened(SKU, warehouse)]
    return events


# --- register_product ---------------------------------------------------------------------


def test_register_product_records_the_product_active_with_no_warehouse() -> None:
    scenario = given().when(RegisterProduct(sku=SKU, name="Hex bolt", unit="each"))
    scenario.then(registered(SKU))
    product = scenario.product(SKU)
    assert (product.status, product.warehouses, product.unit) == ("active", (), "each")


def test_register_product_normalises_the_case_of_sku_and_unit() -> None:
    given().when_fields(
        "register_product", {"sku": " bolt-m8 ", "name": " Hex bolt ", "unit": " Box"}
    ).then(registered(SKU, unit="box"))


def test_register_product_refuses_a_sku_in_use() -> None:
    given(registered(SKU)).when(RegisterProduct(sku=SKU, name="Other", unit="box")).then_refused(
        RuleRefused, r"BOLT-M8 is already registered \(active: Hex bolt\); .*another SKU"
    )


def test_register_product_refuses_the_sku_of_a_discontinued_product() -> None:
    given(registered(SKU), discontinued(SKU)).when(
        RegisterProduct(sku=SKU, name="Hex bolt v2", unit="each")
    ).then_refused(RuleRefused, r"already registered \(discontinued.*never reused")


@pytest.mark.parametrize("sku", ["A", "BOLT-M8", "0", "-", "X" * 32, "led-e27"])
def test_register_product_accepts_valid_skus(sku: str) -> None:
    given().when_fields("register_product", {"sku": sku, "name": "Thing", "unit": "each"}).then(
        registered(sku.upper(), name="Thing")
    )


@pytest.mark.parametrize("sku", ["", "BOLT_M8", "BOLT M8", "BOLT/8", "É", "X" * 33, "A\nB", "A@B"])
def test_register_product_refuses_malformed_skus(sku: str) -> None:
    given().when_fields(
        "register_product", {"sku": sku, "name": "Thing", "unit": "each"}
    ).then_refused(
        InvalidInput, r"^invalid register_product: sku: .* is not a SKU; use 1 to 32 letters"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"unit": "litre"}, r"unit: Input should be 'each', 'pair', 'pack', 'box'"),
        ({"unit": 3}, r"unit: Input should be"),
        ({"name": "   "}, r"name: is empty"),
        ({"name": "x" * 101}, r"name: is 101 characters long: at most 100"),
        (
            {"name": "Bolt\nNut"},
            r"name: contains control, bidi or invisible characters \(U\+000A\)",
        ),
        ({"sku": 12}, r"sku: Input should be a valid string"),
        ({"colour": "red"}, r"colour is not a field of register_product"),
    ],
)
def test_register_product_refuses_bad_fields(fields: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"sku": SKU, "name": "Hex bolt", "unit": "each"}
    given().when_fields("register_product", base | fields).then_refused(InvalidInput, message)


def test_a_missing_field_is_named() -> None:
    given().when_fields("register_product", {"sku": SKU}).then_refused(
        InvalidInput, r"name is required; unit is required"
    )


# --- receive_stock ------------------------------------------------------------------------


def test_the_first_delivery_to_a_warehouse_opens_the_location_on_the_product() -> None:
    scenario = given(registered(SKU)).when(
        ReceiveStock(sku=SKU, warehouse="ams", quantity=120, supplier_ref="DN-1")
    )
    scenario.then(opened(SKU, "ams"), received(SKU, "ams", 120))
    assert scenario.product(SKU).warehouses == ("ams",)
    assert scenario.stock(SKU, "ams") == Stock(on_hand=120, movements=1)


def test_a_delivery_to_a_known_warehouse_only_adds_stock() -> None:
    scenario = given(*_stocked(("ams", 10))).when(
        ReceiveStock(sku=SKU, warehouse="ams", quantity=5, supplier_ref="DN-2")
    )
    scenario.then(received(SKU, "ams", 5, "DN-2"))
    assert scenario.stock(SKU, "ams").on_hand == 15
    assert scenario.loaded == {"product-BOLT-M8", "stock-BOLT-M8@ams"}


def test_receive_refuses_an_unregistered_product() -> None:
    given().when(
        ReceiveStock(sku=SKU, warehouse="ams", quantity=5, supplier_ref="DN-1")
    ).then_refused(NotFound, r"product BOLT-M8 is not registered; register it first")


def test_receive_refuses_a_discontinued_product() -> None:
    given(registered(SKU), discontinued(SKU, "replaced by BOLT-M8X")).when(
        ReceiveStock(sku=SKU, warehouse="ams", quantity=5, supplier_ref="DN-1")
    ).then_refused(
        RuleRefused,
        r"product BOLT-M8 is discontinued \(reason: replaced by BOLT-M8X\); its stock can no",
    )


def test_receive_refuses_more_than_a_warehouse_may_hold() -> None:
    given(*_stocked(("ams", MAX_QUANTITY - 5))).when(
        ReceiveStock(sku=SKU, warehouse="ams", quantity=6, supplier_ref="DN-2")
    ).then_refused(RuleRefused, r"ams would hold 1,000,000,000,001 each of BOLT-M8, more than")


def test_receive_up_to_the_cap_is_fine() -> None:
    given(*_stocked(("ams", MAX_QUANTITY - 5))).when(
        ReceiveStock(sku=SKU, warehouse="ams", quantity=5, supplier_ref="DN-2")
    ).then(received(SKU, "ams", 5, "DN-2"))


@pytest.mark.parametrize("quantity", ["12", 12, " 12 ", "0012"])
def test_quantities_are_whole_numbers_as_text_or_int(quantity: object) -> None:
    given(*_stocked(("ams", 1))).when_fields(
        "receive_stock",
        {"sku": SKU, "warehouse": "AMS", "quantity": quantity, "supplier_ref": "DN-2"},
    ).then(received(SKU, "ams", 12, "DN-2"))


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", r"quantity: must be 1 or more, got 0"),
        (0, r"quantity: must be 1 or more, got 0"),
        (-3, r"quantity: must be 1 or more, got -3"),
        ("-3", r"quantity: '-3' is not a whole number of units; write e.g. 12"),
        ("12.0", r"quantity: '12.0' is not a whole number"),
        (12.0, r"quantity: must be a whole number of units, e.g. 12, got 12.0"),
        (True, r"quantity: must be a whole number of units"),
        ("1_000", r"'1_000' is not a whole number"),
        ("+5", r"'\+5' is not a whole number"),
        ("٣", r"is not a whole number"),
        ("", r"'' is not a whole number"),
        ("lots", r"'lots' is not a whole number"),
        (MAX_QUANTITY + 1, r"1,000,000,000,001 is too large; at most 1,000,000,000,000 units"),
        ("9" * 5000, r"quantity: is too large"),
        (None, r"quantity: must be a whole number"),
    ],
)
def test_bad_quantities_are_invalid_input(quantity: object, message: str) -> None:
    given(*_stocked(("ams", 1))).when_fields(
        "receive_stock", {"sku": SKU, "warehouse": "ams", "quantity": quantity, "supplier_ref": "x"}
    ).then_refused(InvalidInput, message)


@pytest.mark.parametrize("warehouse", ["", "ams_1", "ams central", "a" * 25, "é", "a@b"])
def test_malformed_warehouse_ids_are_invalid_input(warehouse: str) -> None:
    given(registered(SKU)).when_fields(
        "receive_stock",
        {"sku": SKU, "warehouse": warehouse, "quantity": 1, "supplier_ref": "DN-1"},
    ).then_refused(InvalidInput, r"warehouse: .* is not a warehouse id; use 1 to 24 letters")


def test_receive_needs_a_supplier_reference() -> None:
    given(registered(SKU)).when_fields(
        "receive_stock", {"sku": SKU, "warehouse": "ams", "quantity": 1, "supplier_ref": " "}
    ).then_refused(InvalidInput, r"supplier_ref: is empty")


# --- ship_stock ---------------------------------------------------------------------------


def test_ship_takes_units_out_down_to_zero() -> None:
    scenario = given(*_stocked(("ams", 10))).when(
        ShipStock(sku=SKU, warehouse="ams", quantity=10, order_ref="SO-7")
    )
    scenario.then(shipped(SKU, "ams", 10, "SO-7"))
    assert scenario.stock(SKU, "ams").on_hand == 0


def test_ship_refuses_more_than_is_on_hand() -> None:
    given(*_stocked(("ams", 10))).when(
        ShipStock(sku=SKU, warehouse="ams", quantity=11, order_ref="SO-7")
    ).then_refused(
        RuleRefused,
        r"^cannot take 11 each of BOLT-M8 out of ams: only 10 each on hand; receive or move",
    )


def test_ship_says_when_nothing_is_left() -> None:
    given(*_stocked(("ams", 3)), shipped(SKU, "ams", 3)).when(
        ShipStock(sku=SKU, warehouse="ams", quantity=1, order_ref="SO-8")
    ).then_refused(RuleRefused, r"out of ams: none on hand")


def test_ship_says_when_the_product_was_never_at_that_warehouse() -> None:
    given(*_stocked(("ams", 3))).when(
        ShipStock(sku=SKU, warehouse="rtm", quantity=1, order_ref="SO-8")
    ).then_refused(RuleRefused, r"out of rtm: never stocked there")


def test_ship_refuses_unregistered_and_discontinued_products() -> None:
    command = ShipStock(sku=SKU, warehouse="ams", quantity=1, order_ref="SO-1")
    given().when(command).then_refused(NotFound, "is not registered")
    given(registered(SKU), discontinued(SKU)).when(command).then_refused(
        RuleRefused, "is discontinued"
    )


def test_ship_needs_an_order_reference_of_one_short_line() -> None:
    base = {"sku": SKU, "warehouse": "ams", "quantity": 1}
    scenario = given(*_stocked(("ams", 3)))
    scenario.when_fields("ship_stock", base).then_refused(InvalidInput, "order_ref is required")
    scenario.when_fields("ship_stock", base | {"order_ref": "x" * 61}).then_refused(
        InvalidInput, r"order_ref: is 61 characters long: at most 60"
    )


# --- move_stock ---------------------------------------------------------------------------


def test_move_between_known_warehouses_is_one_append_to_both_stock_streams() -> None:
    scenario = given(*_stocked(("ams", 10), ("rtm", 1))).when(
        MoveStock(sku=SKU, from_warehouse="ams", to_warehouse="rtm", quantity=4)
    )
    scenario.then(*moved(SKU, "ams", "rtm", 4))
    assert (scenario.stock(SKU, "ams").on_hand, scenario.stock(SKU, "rtm").on_hand) == (6, 5)


def test_move_to_a_new_warehouse_opens_it_first() -> None:
    scenario = given(*_stocked(("ams", 10))).when(
        MoveStock(sku=SKU, from_warehouse="ams", to_warehouse="ber", quantity=10)
    )
    scenario.then(opened(SKU, "ber"), *moved(SKU, "ams", "ber", 10))
    assert scenario.product(SKU).warehouses == ("ams", "ber")


def test_move_refuses_the_same_warehouse() -> None:
    given(*_stocked(("ams", 10))).when(
        MoveStock(sku=SKU, from_warehouse="ams", to_warehouse="AMS", quantity=1)
    ).then_refused(
        RuleRefused, r"^cannot move BOLT-M8 from ams to itself; choose a different warehouse$"
    )


def test_move_refuses_more_than_the_source_holds() -> None:
    given(*_stocked(("ams", 2), ("rtm", 0))).when(
        MoveStock(sku=SKU, from_warehouse="ams", to_warehouse="rtm", quantity=3)
    ).then_refused(RuleRefused, r"cannot take 3 each of BOLT-M8 out of ams: only 2 each on hand")


def test_move_refuses_from_a_warehouse_that_never_had_it() -> None:
    given(*_stocked(("ams", 2))).when(
        MoveStock(sku=SKU, from_warehouse="ber", to_warehouse="ams", quantity=1)
    ).then_refused(RuleRefused, r"out of ber: never stocked there")


def test_move_refuses_to_overfill_the_target() -> None:
    given(*_stocked(("ams", 5), ("rtm", MAX_QUANTITY))).when(
        MoveStock(sku=SKU, from_warehouse="ams", to_warehouse="rtm", quantity=1)
    ).then_refused(RuleRefused, r"rtm would hold .* more than the most one warehouse may hold")


def test_move_refuses_unregistered_and_discontinued_products() -> None:
    command = MoveStock(sku=SKU, from_warehouse="ams", to_warehouse="rtm", quantity=1)
    given().when(command).then_refused(NotFound, "is not registered")
    given(registered(SKU), discontinued(SKU)).when(command).then_refused(
        RuleRefused, "is discontinued"
    )


# --- adjust_stock -------------------------------------------------------------------------


@pytest.mark.parametrize(("counted", "difference"), [(7, -3), (12, 2), (10, 0), (0, -10)])
def test_a_stock_take_records_the_count_the_books_and_the_difference(
    counted: int, difference: int
) -> None:
    scenario = given(*_stocked(("ams", 10))).when(
        AdjustStock(sku=SKU, warehouse="ams", counted=counted, reason="cycle count")
    )
    scenario.then(adjusted(SKU, "ams", counted, 10))
    assert scenario.emitted is not None
    assert scenario.emitted[0].event.difference == difference  # type: ignore[attr-defined]
    assert scenario.stock(SKU, "ams").on_hand == counted


def test_a_count_follows_earlier_movements() -> None:
    history = [*_stocked(("ams", 10), ("rtm", 0)), shipped(SKU, "ams", 4)]
    given(*history, *moved(SKU, "ams", "rtm", 1)).when(
        AdjustStock(sku=SKU, warehouse="ams", counted=4, reason="cycle count")
    ).then(adjusted(SKU, "ams", 4, 5))


def test_stock_found_at_a_new_warehouse_opens_it() -> None:
    given(registered(SKU)).when(
        AdjustStock(sku=SKU, warehouse="ber", counted=3, reason="found after relocation")
    ).then(opened(SKU, "ber"), adjusted(SKU, "ber", 3, 0, "found after relocation"))


def test_counting_nothing_where_the_product_never_was_is_refused() -> None:
    given(*_stocked(("ams", 1))).when(
        AdjustStock(sku=SKU, warehouse="ber", counted=0, reason="cycle count")
    ).then_refused(
        RuleRefused,
        r"BOLT-M8 was never stocked at ber, so a count of 0 changes nothing; check the warehouse",
    )


def test_adjust_refuses_unregistered_and_discontinued_products() -> None:
    command = AdjustStock(sku=SKU, warehouse="ams", counted=1, reason="count")
    given().when(command).then_refused(NotFound, "is not registered")
    given(registered(SKU), discontinued(SKU)).when(command).then_refused(
        RuleRefused, "is discontinued"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"counted": "-1"}, r"counted: '-1' is not a whole number"),
        ({"counted": -1}, r"counted: must be 0 or more, got -1"),
        ({"reason": ""}, r"reason: is empty"),
        ({"reason": "x" * 201}, r"reason: is 201 characters long: at most 200"),
    ],
)
def test_adjust_refuses_bad_fields(fields: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"sku": SKU, "warehouse": "ams", "counted": "3", "reason": "count"}
    given(*_stocked(("ams", 1))).when_fields("adjust_stock", base | fields).then_refused(
        InvalidInput, message
    )


def test_counted_zero_is_a_valid_count_at_a_known_warehouse() -> None:
    given(*_stocked(("ams", 4))).when_fields(
        "adjust_stock", {"sku": SKU, "warehouse": "ams", "counted": "0", "reason": "written off"}
    ).then(adjusted(SKU, "ams", 0, 4, "written off"))


# --- discontinue_product ------------------------------------------------------------------


def test_a_product_never_stocked_is_discontinued_alone() -> None:
    scenario = given(registered(SKU)).when(DiscontinueProduct(sku=SKU, reason="delisted"))
    scenario.then(discontinued(SKU, "delisted"))
    assert scenario.product(SKU).status == "discontinued"


def test_discontinuing_checks_and_closes_every_stock_record() -> None:
    history = [*_stocked(("ams", 3), ("rtm", 2)), shipped(SKU, "ams", 3)]
    history += [adjusted(SKU, "rtm", 0, 2, "written off")]
    scenario = given(*history).when(DiscontinueProduct(sku=SKU, reason="end of life"))
    scenario.then(discontinued(SKU, "end of life"), closed(SKU, "ams"), closed(SKU, "rtm"))
    assert scenario.loaded == {"product-BOLT-M8", "stock-BOLT-M8@ams", "stock-BOLT-M8@rtm"}
    assert scenario.stock(SKU, "rtm") == Stock(on_hand=0, movements=3, closed=True)


def test_discontinue_refuses_while_any_warehouse_holds_stock() -> None:
    history = [*_stocked(("ams", 3), ("rtm", 2), ("ber", 1200)), shipped(SKU, "ams", 3)]
    given(*history).when(DiscontinueProduct(sku=SKU, reason="end of life")).then_refused(
        RuleRefused,
        r"^product BOLT-M8 still holds stock \(2 each at rtm, 1,200 each at ber\); ship, move "
        r"or write it off with adjust_stock before discontinuing$",
    )


def test_discontinue_refuses_unregistered_and_already_discontinued_products() -> None:
    command = DiscontinueProduct(sku=SKU, reason="again")
    given().when(command).then_refused(NotFound, "is not registered")
    given(registered(SKU), discontinued(SKU, "old")).when(command).then_refused(
        RuleRefused, r"is discontinued \(reason: old\)"
    )


@pytest.mark.parametrize(
    "command",
    [
        ReceiveStock(sku=SKU, warehouse="ams", quantity=1, supplier_ref="DN-9"),
        ShipStock(sku=SKU, warehouse="ams", quantity=1, order_ref="SO-9"),
        MoveStock(sku=SKU, from_warehouse="ams", to_warehouse="rtm", quantity=1),
        AdjustStock(sku=SKU, warehouse="ams", counted=0, reason="count"),
        AdjustStock(sku=SKU, warehouse="ams", counted=5, reason="found"),
    ],
)
def test_a_discontinued_product_accepts_no_movement(command: Command) -> None:
    history = [*_stocked(("ams", 1)), shipped(SKU, "ams", 1), discontinued(SKU)]
    given(*history, closed(SKU, "ams")).when(command).then_refused(RuleRefused, "discontinued")


# --- the model ----------------------------------------------------------------------------


def test_every_command_has_a_handler_a_title_and_described_fields() -> None:
    assert set(HANDLERS) == set(COMMANDS) == set(INVENTORY.command_by_name.values())
    assert [c.type_name for c in COMMANDS] == [
        "register_product",
        "receive_stock",
        "ship_stock",
        "move_stock",
        "adjust_stock",
        "discontinue_product",
    ]
    for command in COMMANDS:
        assert command.title and command.__doc__
        for name, info in command.model_fields.items():
            assert info.description, f"{command.type_name}.{name} has no description"


def test_event_names_and_versions_are_the_stored_contract() -> None:
    assert {e.type_name: e.schema_version for e in EVENTS} == {
        "ProductRegistered": 1,
        "StockLocationOpened": 1,
        "StockReceived": 1,
        "StockShipped": 1,
        "StockMovedOut": 1,
        "StockMovedIn": 1,
        "StockAdjusted": 1,
        "StockLocationClosed": 1,
        "ProductDiscontinued": 1,
    }
    assert set(CATALOG.types) == {e.type_name for e in EVENTS}
    assert set(StockReceived.model_fields) == {"sku", "warehouse", "quantity", "supplier_ref"}
    assert UNITS == ("each", "pair", "pack", "box", "case", "roll", "kg", "m")


def test_events_are_strict_stored_data() -> None:
    with pytest.raises(ValidationError):
        StockReceived(sku=SKU, warehouse="ams", quantity="12", supplier_ref="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        StockReceived(sku="bolt", warehouse="ams", quantity=12, supplier_ref="x")
    decoded = CATALOG.decode(
        "StockReceived", 1, {"sku": SKU, "warehouse": "ams", "quantity": 3, "supplier_ref": "x"}
    )
    assert decoded == received(SKU, "ams", 3, "x")


def test_the_aggregates_refuse_events_they_do_not_know() -> None:
    with pytest.raises(TypeError, match=r"Product aggregate does not know .* StockReceived"):
        evolve_product(Product(), received(SKU, "ams", 1))
    with pytest.raises(TypeError, match=r"Stock aggregate does not know .* ProductRegistered"):
        evolve_stock(Stock(), registered(SKU))


def test_stock_keys_split_back() -> None:
    assert STOCK.stream_id(stock_key(SKU, "ams-central")) == "stock-BOLT-M8@ams-central"
    assert PRODUCT.stream_id(SKU) == "product-BOLT-M8"
    assert split_stock_key("BOLT-M8@ams-central") == (SKU, "ams-central")
    with pytest.raises(ValueError, match="not a stock key"):
        split_stock_key("BOLT-M8")


# --- races: decided on fresh state, then someone else commits first ------------------------


class RacingStore:
    """The in-memory store, but a rival command commits just before our first append."""

    def __init__(self, store: InMemoryEventStore, rival: Callable[[], object]) -> None:
        self._store = store
        self._rival: Callable[[], object] | None = rival

    def append(self, streams: list[StreamAppend], metadata: Metadata) -> AppendResult:
        if self._rival is not None:
            rival, self._rival = self._rival, None
            rival()
        return self._store.append(streams, metadata)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _bus(store: Any, who: str) -> CommandBus:
    return CommandBus(store, INVENTORY, clock=StepClock(), ids=SequentialIds(who))


def _race(setup: list[Command], rivals: list[Command], command: Command) -> None:
    """Run `setup`, then `command`, with `rivals` committing between its decision and append."""
    store = InMemoryEventStore(clock=StepClock())
    plain = _bus(store, "setup")
    for step in setup:
        plain.execute(step, actor="setup")
    other = _bus(store, "rival")

    def rival() -> None:
        for step in rivals:
            other.execute(step, actor="rival")

    _bus(RacingStore(store, rival), "racer").execute(command, actor="racer")


def _register_and_receive(*warehouses: str) -> list[Command]:
    steps: list[Command] = [RegisterProduct(sku=SKU, name="Hex bolt", unit="each")]
    for warehouse in warehouses:
        steps.append(ReceiveStock(sku=SKU, warehouse=warehouse, quantity=1, supplier_ref="x"))
    return steps


def _empty(warehouse: str) -> Command:
    return ShipStock(sku=SKU, warehouse=warehouse, quantity=1, order_ref="SO-0")


def _discontinue() -> Command:
    return DiscontinueProduct(sku=SKU, reason="end of life")


def test_a_delivery_to_a_known_warehouse_during_a_discontinuation_is_caught() -> None:
    rival = ReceiveStock(sku=SKU, warehouse="ams", quantity=5, supplier_ref="DN-late")
    with pytest.raises(RuleRefused, match=r"still holds stock \(5 each at ams\)"):
        _race([*_register_and_receive("ams"), _empty("ams")], [rival], _discontinue())


def test_a_delivery_to_a_new_warehouse_during_a_discontinuation_is_caught() -> None:
    rival = ReceiveStock(sku=SKU, warehouse="ber", quantity=5, supplier_ref="DN-late")
    with pytest.raises(RuleRefused, match=r"still holds stock \(5 each at ber\)"):
        _race([*_register_and_receive("ams"), _empty("ams")], [rival], _discontinue())


_EMPTIED = [*_register_and_receive("ams", "rtm"), _empty("ams"), _empty("rtm")]
"""BOLT-M8 with stock records at ams and rtm, both empty: discontinuing it is allowed."""


@pytest.mark.parametrize(
    "command",
    [
        ReceiveStock(sku=SKU, warehouse="ams", quantity=5, supplier_ref="DN-late"),
        ReceiveStock(sku=SKU, warehouse="ber", quantity=5, supplier_ref="DN-late"),
        AdjustStock(sku=SKU, warehouse="rtm", counted=2, reason="found"),
    ],
)
def test_a_movement_decided_before_a_discontinuation_commits_is_caught(command: Command) -> None:
    with pytest.raises(RuleRefused, match="is discontinued"):
        _race(_EMPTIED, [_discontinue()], command)


@pytest.mark.parametrize(
    "command",
    [
        ShipStock(sku=SKU, warehouse="ams", quantity=1, order_ref="SO-1"),
        MoveStock(sku=SKU, from_warehouse="ams", to_warehouse="ber", quantity=1),
    ],
)
def test_an_order_decided_before_the_stock_was_cleared_and_discontinued_is_caught(
    command: Command,
) -> None:
    with pytest.raises(RuleRefused, match="is discontinued"):
        _race([*_register_and_receive("ams")], [_empty("ams"), _discontinue()], command)


def test_without_a_rival_the_same_discontinuation_goes_through() -> None:
    store = InMemoryEventStore(clock=StepClock())
    bus = _bus(store, "maria")
    for step in [*_register_and_receive("ams", "rtm"), _empty("ams"), _empty("rtm")]:
        bus.execute(step, actor="setup")
    result = bus.execute(_discontinue(), actor="maria")
    assert [(e.stream_id, e.type) for e in result.events] == [
        ("product-BOLT-M8", "ProductDiscontinued"),
        ("stock-BOLT-M8@ams", "StockLocationClosed"),
        ("stock-BOLT-M8@rtm", "StockLocationClosed"),
    ]
