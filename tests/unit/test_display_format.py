"""One formatting rule for numbers and money on every screen and in the CLI."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cells import count_cell, grouped_decimal
from domain.envelope import RecordedEvent
from domain.inventory.description import INVENTORY_DOMAIN
from domain.ledger.description import LEDGER_DOMAIN
from domain.ledger.money import (
    CURRENCIES,
    CURRENCY_DIGITS,
    MAX_MINOR_UNITS,
    grouped_amount,
    money_text,
    parse_amount,
)
from domain.ledger.projections import LEDGER_PROJECTIONS


def _units_back(text: str, digits: int) -> int:
    """The integer a grouped decimal stands for (commas and point removed)."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-±")
    whole, _, fraction = body.partition(".")
    assert len(fraction) == (digits if digits > 0 else 0)
    return sign * int(whole.replace(",", "") + fraction)


@given(st.integers(min_value=-(10**20), max_value=10**20), st.integers(0, 6), st.booleans())
def test_grouped_decimal_round_trips_every_unit(units: int, digits: int, signed: bool) -> None:
    text = grouped_decimal(units, digits, signed=signed)
    assert _units_back(text, digits) == units
    whole = text.lstrip("+-±").partition(".")[0]
    # Groups of three: never a cut number, never a stray separator.
    groups = whole.split(",")
    assert 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    if signed:
        assert text[0] in "+-±"


@given(st.sampled_from(CURRENCIES), st.integers(-MAX_MINOR_UNITS, MAX_MINOR_UNITS))
def test_money_text_reads_back_as_the_same_minor_units(currency: str, minor: int) -> None:
    text = money_text(minor, currency)
    amount, code = text.rsplit(" ", 1)
    assert code == currency
    assert amount == grouped_amount(minor, currency)
    plain = amount.replace(",", "").lstrip("-")
    assert parse_amount(plain, currency, allow_zero=True) == abs(minor)


@pytest.mark.parametrize(
    ("minor", "currency", "signed", "text"),
    [
        (144_136, "EUR", True, "+1,441.36 EUR"),
        (1_380_048, "JPY", True, "+1,380,048 JPY"),
        (-5, "USD", False, "-0.05 USD"),
        (0, "GBP", True, "±0.00 GBP"),
    ],
)
def test_money_text_examples(minor: int, currency: str, signed: bool, text: str) -> None:
    assert money_text(minor, currency, signed=signed) == text


def test_counts_use_the_same_rule() -> None:
    assert count_cell(1234567, {}) == grouped_decimal(1234567) == "1,234,567"


def _event(kind: str, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        position=1,
        event_id="e1",
        stream_id="account-a1",
        stream_type="account",
        version=1,
        type=kind,
        schema_version=1,
        data=data,
        metadata={"actor": "ann"},
        recorded_at="2026-03-01T10:00:00.000000Z",
        prev_hash="",
        hash="",
    )


def test_the_log_writes_money_as_the_panels_do() -> None:
    deposit = {"account_id": "a1", "amount": 144_136, "currency": "EUR", "reference": ""}
    assert LEDGER_DOMAIN.summary(_event("MoneyDeposited", deposit)).startswith(
        "+1,441.36 EUR to a1"
    )
    yen = {"account_id": "j1", "amount": 1_380_048, "currency": "JPY", "reference": ""}
    assert LEDGER_DOMAIN.summary(_event("MoneyWithdrawn", yen)) == "-1,380,048 JPY from j1"
    transfer = {
        "transfer_id": "t",
        "from_account": "a1",
        "to_account": "a2",
        "amount": 2550,
        "currency": "EUR",
        "reference": "",
    }
    assert LEDGER_DOMAIN.summary(_event("TransferSent", transfer)) == "25.50 EUR a1 → a2"
    limit = {"account_id": "a1", "old_limit": 0, "new_limit": 150_000}
    assert LEDGER_DOMAIN.summary(_event("OverdraftLimitChanged", limit)) == (
        "overdraft of a1: 0 minor units → 150,000 minor units"
    )
    # The panel column for the same balance says the same number.
    balances = next(p for p in LEDGER_PROJECTIONS if p.name == "account_balances")
    column = next(c for c in balances.columns if c.name == "balance")
    assert column.format({"balance": 144_136, "currency": "EUR"}) == "1,441.36"


@pytest.mark.parametrize("currency", sorted(CURRENCY_DIGITS))
def test_aggregate_fields_format_money_with_the_rows_currency(currency: str) -> None:
    state = {"balance": 123_456_789, "overdraft_limit": 0, "currency": currency}
    assert LEDGER_DOMAIN.field("balance").format(state) == grouped_amount(123_456_789, currency)
    assert LEDGER_DOMAIN.field("balance").title == "Balance"
    assert LEDGER_DOMAIN.field("overdraft_limit").title == "Overdraft"


def test_undescribed_fields_get_a_human_title_and_plain_text() -> None:
    column = INVENTORY_DOMAIN.field("some_new_field")
    assert column.title == "Some new field"
    assert column.format({"some_new_field": ["a", "b"]}) == "a, b"
    assert INVENTORY_DOMAIN.field("difference").format({"difference": -1200}) == "-1,200"
    assert INVENTORY_DOMAIN.field("on_hand").format({"on_hand": 1200}) == "1,200"
