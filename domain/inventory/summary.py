"""One human line per inventory event, for the log and the app's lists."""

from __future__ import annotations

from domain.envelope import RecordedEvent


def _signed(value: int) -> str:
    return f"{value:+,}" if value else "±0"


def summarize(event: RecordedEvent) -> str:
    """`+120 BOLT-M8 into ams-central · DN-48213`, `5 BOLT-M8 ams-central → rtm-port`..."""
    d = event.data
    kind = event.type
    if kind == "StockReceived":
        return f"+{d['quantity']:,} {d['sku']} into {d['warehouse']} · {d['supplier_ref']}"
    if kind == "StockShipped":
        return f"-{d['quantity']:,} {d['sku']} from {d['warehouse']} · {d['order_ref']}"
    if kind in ("StockMovedOut", "StockMovedIn"):
        half = "out" if kind == "StockMovedOut" else "in"
        return f"{d['quantity']:,} {d['sku']} {d['from_warehouse']} → {d['to_warehouse']} ({half})"
    if kind == "StockAdjusted":
        return (
            f"counted {d['counted']:,} {d['sku']} at {d['warehouse']} "
            f"(books {d['previous']:,}, {_signed(int(d['difference']))}): {d['reason']}"
        )
    if kind == "ProductRegistered":
        return f"registered {d['sku']}: {d['name']} (per {d['unit']})"
    if kind == "StockLocationOpened":
        return f"{d['sku']} now stocked at {d['warehouse']}"
    if kind == "StockLocationClosed":
        return f"closed the stock record of {d['sku']} at {d['warehouse']}"
    if kind == "ProductDiscontinued":
        return f"discontinued {d['sku']}: {d['reason']}"
    raise ValueError(f"unknown inventory event {kind}")
