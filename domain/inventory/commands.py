"""The inventory's commands: orders a person gives, validated for shape where they enter.

Forms and `eventscope exec` are generated from these models, so every field has a
description, and bad input fails here with a message naming the field. Quantities
are whole numbers: forms and the CLI send text ("12"), JSON callers may send ints;
anything else (floats, "12.0", "1_000", booleans) is refused rather than guessed at.

SKUs are uppercase and warehouse ids lowercase by definition, so input in the other
case is normalised ("bolt-m8" is `BOLT-M8`, "AMS-Central" is `ams-central`): there is
no other thing it could mean.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from domain.fields import FreeText
from domain.inventory.events import MAX_QUANTITY, SKU_PATTERN, WAREHOUSE_PATTERN, Unit
from domain.messages import Command

_SKU = re.compile(SKU_PATTERN)
_WAREHOUSE = re.compile(WAREHOUSE_PATTERN)
_DIGITS = re.compile(r"[0-9]+")
NAME_MAX = 100
REASON_MAX = 200
REFERENCE_MAX = 60


def _sku(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # pydantic's own "Input should be a valid string"
    text = value.strip().upper()
    # Checked by hand rather than with `pattern=`, whose error only echoes the regex.
    if _SKU.fullmatch(text) is None:
        raise ValueError(
            f"{value!r} is not a SKU; use 1 to 32 letters, digits or dashes, e.g. BOLT-M8"
        )
    return text


def _warehouse(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if _WAREHOUSE.fullmatch(text) is None:
        raise ValueError(
            f"{value!r} is not a warehouse id; use 1 to 24 letters, digits or dashes, "
            "e.g. ams-central"
        )
    return text


def _whole_number(minimum: int) -> BeforeValidator:
    """A validator reading a count of units from an int or a string of ASCII digits."""
    bound = "0 or more" if minimum == 0 else f"{minimum} or more"

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"must be a whole number of units, e.g. 12, got {value!r}")
        if isinstance(value, str):
            text = value.strip()
            # ASCII digits only: int() would take "٣", "1_000" and "+5" too.
            if _DIGITS.fullmatch(text) is None:
                shown = value if len(value) <= 20 else value[:20] + "..."
                raise ValueError(f"{shown!r} is not a whole number of units; write e.g. 12")
            if len(text) > len(str(MAX_QUANTITY)) + 2:
                raise ValueError(f"is too large; at most {MAX_QUANTITY:,} units")
            value = int(text)
        if value < minimum:
            raise ValueError(f"must be {bound}, got {value}")
        if value > MAX_QUANTITY:
            raise ValueError(f"{value:,} is too large; at most {MAX_QUANTITY:,} units")
        return value

    return BeforeValidator(check)


def _unit(value: Any) -> Any:
    # Literal fields skip the model's whitespace stripping, so do it here too.
    return value.strip().lower() if isinstance(value, str) else value


SkuField = Annotated[
    str,
    BeforeValidator(_sku),
    Field(json_schema_extra={"pattern": SKU_PATTERN}, examples=["BOLT-M8"]),
]
"""A stock-keeping unit: 1 to 32 uppercase letters, digits or dashes."""

WarehouseField = Annotated[
    str,
    BeforeValidator(_warehouse),
    Field(json_schema_extra={"pattern": WAREHOUSE_PATTERN}, examples=["ams-central"]),
]
"""A warehouse id: 1 to 24 lowercase letters, digits or dashes."""

PositiveQuantity = Annotated[
    int, _whole_number(1), Field(json_schema_extra={"minimum": 1}, examples=["12"])
]
"""A whole number of units above zero."""

CountedQuantity = Annotated[
    int, _whole_number(0), Field(json_schema_extra={"minimum": 0}, examples=["0", "48"])
]
"""A whole number of units, zero allowed (an empty shelf is a valid count)."""

UnitField = Annotated[Unit, BeforeValidator(_unit)]
"""One of the inventory's units; "Box" is accepted as `box`."""

Name = Annotated[str, FreeText(NAME_MAX)]
Reason = Annotated[str, FreeText(REASON_MAX)]
Reference = Annotated[str, FreeText(REFERENCE_MAX)]


class RegisterProduct(Command):
    """Add a product to the catalog; it holds no stock until some is received."""

    type_name = "register_product"
    title = "Register product"

    sku: SkuField = Field(description="The new product's SKU: 1-32 letters, digits or dashes.")
    name: Name = Field(description="What it is called, e.g. Hex bolt M8 x 40 mm.")
    unit: UnitField = Field(
        description="What its quantities count: each, pair, pack, box, case, roll, kg or m."
    )


class ReceiveStock(Command):
    """Book goods delivered by a supplier into a warehouse."""

    type_name = "receive_stock"
    title = "Receive stock"

    sku: SkuField = Field(description="The product delivered.")
    warehouse: WarehouseField = Field(description="The warehouse receiving it, e.g. ams-central.")
    quantity: PositiveQuantity = Field(description="How many units arrived, e.g. 120.")
    supplier_ref: Reference = Field(description="The supplier's delivery note, e.g. DN-48213.")


class ShipStock(Command):
    """Send goods from a warehouse to a customer; never more than it holds."""

    type_name = "ship_stock"
    title = "Ship stock"

    sku: SkuField = Field(description="The product shipped.")
    warehouse: WarehouseField = Field(description="The warehouse it leaves from.")
    quantity: PositiveQuantity = Field(description="How many units, at most what is on hand.")
    order_ref: Reference = Field(description="The customer order, e.g. SO-2026-00042.")


class MoveStock(Command):
    """Move units between two warehouses, atomically."""

    type_name = "move_stock"
    title = "Move stock"

    sku: SkuField = Field(description="The product moved.")
    from_warehouse: WarehouseField = Field(description="The warehouse it leaves.")
    to_warehouse: WarehouseField = Field(description="The warehouse it goes to (another one).")
    quantity: PositiveQuantity = Field(description="How many units, at most what is on hand.")


class AdjustStock(Command):
    """Record a stock-take: what was counted replaces the books, the difference is kept."""

    type_name = "adjust_stock"
    title = "Adjust stock (stock-take)"

    sku: SkuField = Field(description="The product counted.")
    warehouse: WarehouseField = Field(description="Where it was counted.")
    counted: CountedQuantity = Field(description="The units found on the shelf (0 or more).")
    reason: Reason = Field(description="Why, e.g. cycle count, or what explains a difference.")


class DiscontinueProduct(Command):
    """Take a product out of the catalog once no warehouse holds any of it."""

    type_name = "discontinue_product"
    title = "Discontinue product"

    sku: SkuField = Field(description="The product to discontinue.")
    reason: Reason = Field(description="Why, e.g. replaced by a newer model.")


COMMANDS: tuple[type[Command], ...] = (
    RegisterProduct,
    ReceiveStock,
    ShipStock,
    MoveStock,
    AdjustStock,
    DiscontinueProduct,
)
"""Every inventory command, in the order forms and help list them."""
