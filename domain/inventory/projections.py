"""The inventory's read models: five pure folds over its events.

- `products`: the catalog, one row per SKU (name, unit, status, warehouses stocked).
- `stock_levels`: one row per SKU and warehouse: on hand, the last movement and when.
- `daily_movements`: per UTC day, units received, shipped, moved and adjusted, events.
- `shrinkage`: stock-takes as an audit, per warehouse and actor: units lost and found.
- `stock_invariant`: per SKU, "received - shipped + adjustments == on hand", shown as
  `holding`, `moving` (between the two halves of one move) or `broken`.

Each implements `domain.projection.Projection`: `initial()`, then `apply(state, event)`
mutating the state in place and returning the keys of exactly the rows whose values
changed (the timeline's lineage and the cursor's highlighting rely on it). Rows and
`aux` hold JSON data only. They are written for replay speed: a branch on the event
type and a handful of dict operations per event, no pydantic (stored data was
validated when it was written).

Quantities are summed as plain units, whatever the product's unit: a day's "received"
adds boxes and kilograms alike, as a warehouse's throughput count does. Events a
handler would never write (movements of an unregistered SKU, an adjustment whose
`previous` disagrees with the books) can arrive by import: the folds keep going
rather than crash, so `stock_invariant` can show what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from domain.clock import format_time, parse_time
from domain.envelope import RecordedEvent
from domain.projection import Column, Projection, ProjectionState, Row

_NONE: Final[tuple[str, ...]] = ()
"""What `apply` returns when no row changed (shared, so it allocates nothing)."""

_REGISTERED = "ProductRegistered"
_OPENED = "StockLocationOpened"
_RECEIVED = "StockReceived"
_SHIPPED = "StockShipped"
_MOVED_OUT = "StockMovedOut"
_MOVED_IN = "StockMovedIn"
_ADJUSTED = "StockAdjusted"
_CLOSED = "StockLocationClosed"
_DISCONTINUED = "ProductDiscontinued"

INVENTORY_EVENT_TYPES: Final = frozenset(
    {
        _REGISTERED,
        _OPENED,
        _RECEIVED,
        _SHIPPED,
        _MOVED_OUT,
        _MOVED_IN,
        _ADJUSTED,
        _CLOSED,
        _DISCONTINUED,
    }
)

_PRODUCT_STREAM = "product-"
_STOCK_STREAM = "stock-"

HOLDING: Final = "holding"
MOVING: Final = "moving"
BROKEN: Final = "broken"


# --- cell formatting -------------------------------------------------------------------


def _text(value: Any, row: Mapping[str, Any]) -> str:
    return "" if value is None else str(value)


def _count(value: Any, row: Mapping[str, Any]) -> str:
    return "" if value is None else f"{int(value):,}"


def _signed(value: Any, row: Mapping[str, Any]) -> str:
    """`+3`, `-12`, `0`: a difference reads with its sign."""
    if value is None:
        return ""
    number = int(value)
    return f"{number:+,}" if number else "0"


def _time(value: Any, row: Mapping[str, Any]) -> str:
    # `2026-03-01T14:02:03.123456Z` -> `2026-03-01 14:02:03`.
    if not value:
        return ""
    text = str(value)
    return f"{text[:10]} {text[11:19]}"


def _movement(value: Any, row: Mapping[str, Any]) -> str:
    """The last movement of a stock row in words (`shipped 5`, `counted 40 (-2)`)."""
    kind = row.get("last_kind")
    quantity = row.get("last_quantity", 0)
    if kind == _RECEIVED:
        return f"received {quantity:,}"
    if kind == _SHIPPED:
        return f"shipped {quantity:,}"
    if kind == _MOVED_OUT:
        return f"moved {quantity:,} to {row.get('last_other', '')}"
    if kind == _MOVED_IN:
        return f"moved {quantity:,} from {row.get('last_other', '')}"
    if kind == _ADJUSTED:
        return f"counted {quantity:,} ({_signed(row.get('last_difference', 0), row)})"
    if kind == _CLOSED:
        return "closed (discontinued)"
    return ""


# --- products ----------------------------------------------------------------------------


class Products:
    """The catalog: one row per SKU with its name, unit, status and warehouses stocked."""

    name = "products"
    title = "Products"
    key_title = "sku"
    version = 1
    columns: Sequence[Column] = (
        Column("sku", "SKU", "text", _text),
        Column("name", "Name", "text", _text),
        Column("unit", "Unit", "text", _text),
        Column("status", "Status", "status", _text),
        Column("warehouses", "Warehouses", "int", _count),
        Column("updated", "Updated", "time", _time),
    )

    def initial(self) -> ProjectionState:
        """No products."""
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the SKU whose row it changed (product events only)."""
        kind = event.type
        if kind == _OPENED:
            row = state.rows.get(event.data["sku"])
            if row is None:
                return _NONE
            row["warehouses"] += 1
        elif kind == _REGISTERED:
            data = event.data
            sku = data["sku"]
            state.rows[sku] = {
                "sku": sku,
                "name": data["name"],
                "unit": data["unit"],
                "status": "active",
                "warehouses": 0,
                "updated": event.recorded_at,
            }
            return (sku,)
        elif kind == _DISCONTINUED:
            row = state.rows.get(event.data["sku"])
            if row is None:
                return _NONE
            row["status"] = "discontinued"
        else:
            return _NONE
        row["updated"] = event.recorded_at
        return (row["sku"],)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A product's row depends on its own stream only."""
        return (_PRODUCT_STREAM + row_key,)


# --- stock_levels --------------------------------------------------------------------------

_STOCK_MOVES: Final[Mapping[str, tuple[str, int]]] = {
    _SHIPPED: ("warehouse", -1),
    _RECEIVED: ("warehouse", 1),
    _MOVED_OUT: ("from_warehouse", -1),
    _MOVED_IN: ("to_warehouse", 1),
}
"""Movements by quantity: (the field naming the warehouse whose row moves, the sign)."""


class StockLevels:
    """One row per SKU and warehouse: units on hand, the last movement and when.

    Row key `BOLT-M8@ams-central` (the stock stream's key). A stock-take sets on hand
    to what was counted. `status` is `in stock`, `empty`, or `closed` once the
    product was discontinued.
    """

    name = "stock_levels"
    title = "Stock levels"
    key_title = "sku@warehouse"
    version = 1
    columns: Sequence[Column] = (
        Column("sku", "SKU", "text", _text),
        Column("warehouse", "Warehouse", "text", _text),
        Column("on_hand", "On hand", "int", _count),
        Column("unit", "Unit", "text", _text),
        Column("status", "Status", "status", _text),
        Column("last_movement", "Last movement", "text", _movement),
        Column("last_at", "At", "time", _time),
        Column("movements", "Moves", "int", _count),
    )

    def initial(self) -> ProjectionState:
        """No stock; `aux["units"]` maps SKU -> unit, from its registration."""
        return ProjectionState(aux={"units": {}})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the stock row it touched."""
        kind = event.type
        data = event.data
        move = _STOCK_MOVES.get(kind)
        if move is not None:
            warehouse = data[move[0]]
            quantity = data["quantity"]
            row = self._row(state, data["sku"], warehouse)
            row["on_hand"] += quantity * move[1]
            row["last_quantity"] = quantity
            if kind == _MOVED_OUT:
                row["last_other"] = data["to_warehouse"]
            elif kind == _MOVED_IN:
                row["last_other"] = data["from_warehouse"]
        elif kind == _ADJUSTED:
            row = self._row(state, data["sku"], data["warehouse"])
            row["on_hand"] = data["counted"]
            row["last_quantity"] = data["counted"]
            row["last_difference"] = data["difference"]
        elif kind == _CLOSED:
            row = self._row(state, data["sku"], data["warehouse"])
            row["closed"] = True
        elif kind == _REGISTERED:
            state.aux["units"][data["sku"]] = data["unit"]
            return _NONE
        else:
            return _NONE
        row["last_kind"] = kind
        row["last_at"] = event.recorded_at
        row["movements"] += 1
        row["status"] = "closed" if row["closed"] else "in stock" if row["on_hand"] else "empty"
        return (row["key"],)

    @staticmethod
    def _row(state: ProjectionState, sku: str, warehouse: str) -> Row:
        key = f"{sku}@{warehouse}"
        row = state.rows.get(key)
        if row is None:
            row = state.rows[key] = {
                "key": key,
                "sku": sku,
                "warehouse": warehouse,
                "on_hand": 0,
                "unit": state.aux["units"].get(sku, ""),
                "status": "empty",
                "closed": False,
                "last_kind": "",
                "last_quantity": 0,
                "last_other": "",
                "last_difference": 0,
                "last_at": "",
                "movements": 0,
            }
        return row

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A stock row changes with its own stock stream; its unit comes from the product's."""
        return (_STOCK_STREAM + row_key, _PRODUCT_STREAM + row_key.rpartition("@")[0])


# --- daily_movements -----------------------------------------------------------------------


class DailyMovements:
    """Per UTC day: units received, shipped, moved, the net of stock-takes, and events.

    `moved` counts each move once (its StockMovedOut); `adjusted` is the sum of the
    stock-takes' differences (negative: shrinkage); `events` counts every inventory
    event of the day, whatever its type. Row key: `2026-03-01`.
    """

    name = "daily_movements"
    title = "Daily movements"
    key_title = "day"
    version = 1
    columns: Sequence[Column] = (
        Column("day", "Day", "date", _text),
        Column("received", "Received", "int", _count),
        Column("shipped", "Shipped", "int", _count),
        Column("moved", "Moved", "int", _count),
        Column("adjusted", "Adjusted", "int", _signed),
        Column("stock_takes", "Counts", "int", _count),
        Column("events", "Events", "int", _count),
    )

    def initial(self) -> ProjectionState:
        """No days."""
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns its day's row."""
        kind = event.type
        if kind not in INVENTORY_EVENT_TYPES:
            return _NONE
        day = event.recorded_at[:10]
        row = state.rows.get(day)
        if row is None:
            row = state.rows[day] = {
                "day": day,
                "received": 0,
                "shipped": 0,
                "moved": 0,
                "adjusted": 0,
                "stock_takes": 0,
                "events": 0,
            }
        row["events"] += 1
        if kind == _SHIPPED:
            row["shipped"] += event.data["quantity"]
        elif kind == _RECEIVED:
            row["received"] += event.data["quantity"]
        elif kind == _MOVED_OUT:
            row["moved"] += event.data["quantity"]
        elif kind == _ADJUSTED:
            row["adjusted"] += event.data["difference"]
            row["stock_takes"] += 1
        return (day,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """Any stream may touch a day: no stream fast path."""
        return None

    def lineage_span(self, row_key: str) -> tuple[str, str] | None:
        """The row's day, as [midnight, next midnight): it changes only then."""
        try:
            start = parse_time(row_key[:10])
        except ValueError:
            return None
        return format_time(start), format_time(start + timedelta(days=1))


# --- shrinkage -----------------------------------------------------------------------------


def _worst(value: Any, row: Mapping[str, Any]) -> str:
    """The largest single loss and its SKU (`12 BOLT-M8`), or nothing."""
    if not value:
        return ""
    return f"{int(value):,} {row.get('worst_sku', '')}"


class Shrinkage:
    """Stock-takes as an audit of shrinkage, one row per warehouse and the actor who counted.

    `lost` adds the units missing at counts that found less than the books (shrinkage:
    loss, damage, theft), `found` the units at counts that found more; `net` is
    found - lost. `exact` counts stock-takes that confirmed the books. `worst` is the
    largest single loss. Row key: `<warehouse> <actor>` (warehouse ids hold no space).
    """

    name = "shrinkage"
    title = "Shrinkage"
    key_title = "warehouse actor"
    version = 1
    columns: Sequence[Column] = (
        Column("warehouse", "Warehouse", "text", _text),
        Column("actor", "Counted by", "text", _text),
        Column("counts", "Counts", "int", _count),
        Column("exact", "Exact", "int", _count),
        Column("lost", "Lost", "int", _count),
        Column("found", "Found", "int", _count),
        Column("net", "Net", "int", _signed),
        Column("worst", "Largest loss", "text", _worst),
        Column("last_count", "Last count", "time", _time),
    )

    def initial(self) -> ProjectionState:
        """No stock-takes."""
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the row of the stock-take's warehouse and actor."""
        if event.type != _ADJUSTED:
            return _NONE
        data = event.data
        warehouse = data["warehouse"]
        actor = event.metadata.get("actor", "")
        key = f"{warehouse} {actor}"
        row = state.rows.get(key)
        if row is None:
            row = state.rows[key] = {
                "warehouse": warehouse,
                "actor": actor,
                "counts": 0,
                "exact": 0,
                "lost": 0,
                "found": 0,
                "net": 0,
                "worst": 0,
                "worst_sku": "",
                "last_count": "",
            }
        difference = data["difference"]
        row["counts"] += 1
        row["net"] += difference
        if difference < 0:
            row["lost"] -= difference
            if -difference > row["worst"]:
                row["worst"] = -difference
                row["worst_sku"] = data["sku"]
        elif difference > 0:
            row["found"] += difference
        else:
            row["exact"] += 1
        row["last_count"] = event.recorded_at
        return (key,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A warehouse holds many SKUs' streams: no fast path."""
        return None


# --- stock_invariant -----------------------------------------------------------------------


class StockInvariant:
    """Per SKU: received, shipped, adjustments, on hand, and whether they agree.

    `on_hand` sums the SKU's stock levels, where a stock-take *sets* a warehouse's level
    to what was counted; `adjusted` sums the stock-takes' recorded differences. The
    invariant is `on_hand + in_transit == received - shipped + adjusted`, with
    `in_transit` (moved out minus moved in) back at 0 once a move's command ends:
    moves only relocate stock, and a stock-take's difference is exactly how far the
    count moved the books.

    `invariant` reads `holding`; `moving` between the two halves of one move (they are
    consecutive positions of one command, and time travel can stop between them);
    `broken` when the sums disagree (e.g. an imported adjustment whose `previous` is not
    what the books said), or a move half stays unmatched after its command's events.
    """

    name = "stock_invariant"
    title = "Stock invariant"
    key_title = "sku"
    version = 1
    columns: Sequence[Column] = (
        Column("sku", "SKU", "text", _text),
        Column("status", "Status", "status", _text),
        Column("received", "Received", "int", _count),
        Column("shipped", "Shipped", "int", _count),
        Column("adjusted", "Adjusted", "int", _signed),
        Column("on_hand", "On hand", "int", _count),
        Column("in_transit", "In transit", "int", _count),
        Column("invariant", "Invariant", "status", _text),
    )

    def initial(self) -> ProjectionState:
        """No SKUs; aux: each location's level, and SKUs with a move half pending."""
        return ProjectionState(aux={"levels": {}, "pending": {}})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the SKUs whose rows changed."""
        kind = event.type
        aux = state.aux
        stale = self._close_pending(state, event) if aux["pending"] else _NONE
        data = event.data
        if kind in (_SHIPPED, _RECEIVED):
            sku = data["sku"]
            row = state.rows.get(sku) or self._row(state.rows, sku, "unregistered")
            quantity = data["quantity"]
            location = f"{sku}@{data['warehouse']}"
            levels = aux["levels"]
            if kind == _SHIPPED:
                row["shipped"] += quantity
                quantity = -quantity
            else:
                row["received"] += quantity
            levels[location] = levels.get(location, 0) + quantity
            row["on_hand"] += quantity
        elif kind in (_MOVED_OUT, _MOVED_IN):
            sku = data["sku"]
            row = state.rows.get(sku) or self._row(state.rows, sku, "unregistered")
            quantity = data["quantity"]
            levels = aux["levels"]
            if kind == _MOVED_OUT:
                location = f"{sku}@{data['from_warehouse']}"
                in_transit = row["in_transit"] + quantity
                quantity = -quantity
            else:
                location = f"{sku}@{data['to_warehouse']}"
                in_transit = row["in_transit"] - quantity
            levels[location] = levels.get(location, 0) + quantity
            row["on_hand"] += quantity
            row["in_transit"] = in_transit
            pending = aux["pending"]
            if in_transit:
                pending[sku] = event.metadata.get("command_id")
            else:
                pending.pop(sku, None)
        elif kind == _ADJUSTED:
            sku = data["sku"]
            levels = aux["levels"]
            location = f"{sku}@{data['warehouse']}"
            counted = data["counted"]
            moved = counted - levels.get(location, 0)
            levels[location] = counted
            difference = data["difference"]
            known = state.rows.get(sku)
            if known is not None and not moved and not difference:
                return stale  # a count that confirmed the books changes no sum
            row = known or self._row(state.rows, sku, "unregistered")
            row["on_hand"] += moved
            row["adjusted"] += difference
        elif kind == _REGISTERED:
            sku = data["sku"]
            known = state.rows.get(sku)
            if known is None:
                self._row(state.rows, sku, "active")
                return _with(stale, sku)
            if known["status"] == "active":
                return stale
            row = known
            row["status"] = "active"
        elif kind == _DISCONTINUED:
            sku = data["sku"]
            known = state.rows.get(sku)
            if known is None or known["status"] == "discontinued":
                return stale
            row = known
            row["status"] = "discontinued"
        else:
            return stale
        row["invariant"] = _judge(row, sku in aux["pending"])
        return _with(stale, sku)

    def _close_pending(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """A new command began: move halves still unmatched now break their SKU."""
        command_id = event.metadata.get("command_id")
        pending = state.aux["pending"]
        stale = [sku for sku, command in pending.items() if command != command_id]
        changed: list[str] = []
        for sku in stale:
            del pending[sku]
            row = state.rows[sku]
            verdict = _judge(row, False)
            if verdict != row["invariant"]:
                row["invariant"] = verdict
                changed.append(sku)
        return tuple(changed)

    @staticmethod
    def _row(rows: dict[str, Row], sku: str, status: str) -> Row:
        row = rows[sku] = {
            "sku": sku,
            "status": status,
            "received": 0,
            "shipped": 0,
            "adjusted": 0,
            "on_hand": 0,
            "in_transit": 0,
            "invariant": HOLDING,
        }
        return row

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A SKU's stock streams are not known from its key alone: no fast path."""
        return None


def _judge(row: Row, in_command: bool) -> str:
    in_transit = row["in_transit"]
    if row["on_hand"] + in_transit != row["received"] - row["shipped"] + row["adjusted"]:
        return BROKEN
    if in_transit:
        return MOVING if in_command else BROKEN
    return HOLDING


def _with(keys: tuple[str, ...], key: str) -> tuple[str, ...]:
    if not keys:
        return (key,)
    return keys if key in keys else (*keys, key)


def inventory_projections() -> tuple[Projection, ...]:
    """The five inventory projections, in panel order."""
    return (Products(), StockLevels(), DailyMovements(), Shrinkage(), StockInvariant())


INVENTORY_PROJECTIONS: Final[tuple[Projection, ...]] = inventory_projections()
"""The inventory's read models, in panel order."""
