"""One plain function per inventory command: load, check the rules, return the events.

Every refusal says what is wrong and what to do about it, because it is shown as is
in the TUI, printed by the CLI and kept in the audit table. Why each handler writes
the streams it writes (and so stays correct under concurrent writers) is explained in
`domain.inventory.aggregates`.
"""

from __future__ import annotations

from domain.errors import NotFound, RuleRefused
from domain.inventory.aggregates import PRODUCT, STOCK, Product, Stock, stock_key
from domain.inventory.commands import (
    AdjustStock,
    DiscontinueProduct,
    MoveStock,
    ReceiveStock,
    RegisterProduct,
    ShipStock,
)
from domain.inventory.events import (
    MAX_QUANTITY,
    ProductDiscontinued,
    ProductRegistered,
    StockAdjusted,
    StockLocationClosed,
    StockLocationOpened,
    StockMovedIn,
    StockMovedOut,
    StockReceived,
    StockShipped,
)
from domain.messages import Command
from domain.model import Context, Emit, Handler


def units(quantity: int, unit: str) -> str:
    """A quantity with its unit, for messages ("1,200 each", "3 kg")."""
    return f"{quantity:,} {unit}"


def _active(ctx: Context, sku: str) -> Product:
    """The product, refusing one never registered or already discontinued."""
    product = ctx.load(PRODUCT, sku)
    if not product.exists:
        raise NotFound(f"product {sku} is not registered; register it first with register_product")
    if product.status == "discontinued":
        raise RuleRefused(
            f"product {sku} is discontinued (reason: {product.discontinued_reason}); "
            "its stock can no longer change"
        )
    return product


def _location(ctx: Context, product: Product, warehouse: str) -> tuple[Stock, list[Emit]]:
    """The product's stock at `warehouse`, and the event opening it there if it is new."""
    stock = ctx.load(STOCK, stock_key(product.sku, warehouse))
    if warehouse in product.warehouses:
        return stock, []
    opened = StockLocationOpened(sku=product.sku, warehouse=warehouse)
    return stock, [Emit(PRODUCT, product.sku, opened)]


def _check_available(product: Product, warehouse: str, stock: Stock, quantity: int) -> None:
    """Refuse taking `quantity` out of `warehouse` if it holds less."""
    if quantity > stock.on_hand:
        unit = product.unit
        if stock.on_hand:
            held = f"only {units(stock.on_hand, unit)} on hand"
        elif warehouse in product.warehouses:
            held = "none on hand"
        else:
            held = "never stocked there"
        raise RuleRefused(
            f"cannot take {units(quantity, unit)} of {product.sku} out of {warehouse}: "
            f"{held}; receive or move stock there first, or take less"
        )


def _check_room(product: Product, warehouse: str, stock: Stock, quantity: int) -> None:
    """Refuse putting `quantity` into `warehouse` if it would hold more than the cap."""
    if stock.on_hand + quantity > MAX_QUANTITY:
        raise RuleRefused(
            f"{warehouse} would hold {units(stock.on_hand + quantity, product.unit)} of "
            f"{product.sku}, more than the most one warehouse may hold "
            f"({units(MAX_QUANTITY, product.unit)})"
        )


def register_product(command: RegisterProduct, ctx: Context) -> list[Emit]:
    """Register a SKU never used before (discontinued SKUs are not reused either)."""
    product = ctx.load(PRODUCT, command.sku)
    if product.exists:
        raise RuleRefused(
            f"product {command.sku} is already registered ({product.status}: {product.name}); "
            "SKUs are never reused, choose another SKU"
        )
    event = ProductRegistered(sku=command.sku, name=command.name, unit=command.unit)
    return [Emit(PRODUCT, command.sku, event)]


def receive_stock(command: ReceiveStock, ctx: Context) -> list[Emit]:
    """Book a delivery of an active product into a warehouse."""
    product = _active(ctx, command.sku)
    stock, emits = _location(ctx, product, command.warehouse)
    _check_room(product, command.warehouse, stock, command.quantity)
    event = StockReceived(
        sku=command.sku,
        warehouse=command.warehouse,
        quantity=command.quantity,
        supplier_ref=command.supplier_ref,
    )
    return [*emits, Emit(STOCK, stock_key(command.sku, command.warehouse), event)]


def ship_stock(command: ShipStock, ctx: Context) -> list[Emit]:
    """Ship units of an active product from a warehouse that holds at least that many."""
    product = _active(ctx, command.sku)
    stock = ctx.load(STOCK, stock_key(command.sku, command.warehouse))
    _check_available(product, command.warehouse, stock, command.quantity)
    event = StockShipped(
        sku=command.sku,
        warehouse=command.warehouse,
        quantity=command.quantity,
        order_ref=command.order_ref,
    )
    return [Emit(STOCK, stock_key(command.sku, command.warehouse), event)]


def move_stock(command: MoveStock, ctx: Context) -> list[Emit]:
    """Move units of an active product between two warehouses, as one append."""
    source, target = command.from_warehouse, command.to_warehouse
    if source == target:
        raise RuleRefused(
            f"cannot move {command.sku} from {source} to itself; choose a different warehouse"
        )
    product = _active(ctx, command.sku)
    held = ctx.load(STOCK, stock_key(command.sku, source))
    _check_available(product, source, held, command.quantity)
    arriving, emits = _location(ctx, product, target)
    _check_room(product, target, arriving, command.quantity)
    out = StockMovedOut(
        move_id=ctx.new_id(),
        sku=command.sku,
        from_warehouse=source,
        to_warehouse=target,
        quantity=command.quantity,
    )
    moved_in = StockMovedIn.model_validate(out.model_dump())
    return [
        *emits,
        Emit(STOCK, stock_key(command.sku, source), out),
        Emit(STOCK, stock_key(command.sku, target), moved_in),
    ]


def adjust_stock(command: AdjustStock, ctx: Context) -> list[Emit]:
    """Record a stock-take of an active product: the count replaces the books.

    A count that matches the books is recorded too (difference 0): it is the audit's
    evidence that the shelf was checked. Counting nothing where the product never was
    is refused, as it would open an empty stock record for no reason.
    """
    product = _active(ctx, command.sku)
    if command.warehouse not in product.warehouses and command.counted == 0:
        raise RuleRefused(
            f"{command.sku} was never stocked at {command.warehouse}, so a count of 0 "
            "changes nothing; check the warehouse id"
        )
    stock, emits = _location(ctx, product, command.warehouse)
    event = StockAdjusted(
        sku=command.sku,
        warehouse=command.warehouse,
        counted=command.counted,
        previous=stock.on_hand,
        difference=command.counted - stock.on_hand,
        reason=command.reason,
    )
    return [*emits, Emit(STOCK, stock_key(command.sku, command.warehouse), event)]


def discontinue_product(command: DiscontinueProduct, ctx: Context) -> list[Emit]:
    """Discontinue an active product that holds no stock in any warehouse.

    Writes every stock stream it checked (see `domain.inventory.aggregates`), so a
    concurrent movement conflicts instead of slipping in after the check.
    """
    product = _active(ctx, command.sku)
    closing: list[Emit] = []
    holding: list[str] = []
    for warehouse in product.warehouses:
        key = stock_key(command.sku, warehouse)
        stock = ctx.load(STOCK, key)
        if stock.on_hand:
            holding.append(f"{units(stock.on_hand, product.unit)} at {warehouse}")
        closing.append(Emit(STOCK, key, StockLocationClosed(sku=command.sku, warehouse=warehouse)))
    if holding:
        raise RuleRefused(
            f"product {command.sku} still holds stock ({', '.join(holding)}); ship, move "
            "or write it off with adjust_stock before discontinuing"
        )
    event = ProductDiscontinued(sku=command.sku, reason=command.reason)
    return [Emit(PRODUCT, command.sku, event), *closing]


HANDLERS: dict[type[Command], Handler] = {
    RegisterProduct: register_product,
    ReceiveStock: receive_stock,
    ShipStock: ship_stock,
    MoveStock: move_stock,
    AdjustStock: adjust_stock,
    DiscontinueProduct: discontinue_product,
}
"""The handler of each inventory command."""
