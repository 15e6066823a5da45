"""Money: decimal strings to integer minor units and back, never through a float."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.ledger.money import (
    CURRENCIES,
    CURRENCY_DIGITS,
    MAX_MINOR_UNITS,
    AmountError,
    as_currency,
    check_decimal_text,
    currency_digits,
    format_amount,
    format_money,
    parse_amount,
)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("100.00", "EUR", 10_000),
        ("100", "EUR", 10_000),
        ("100.5", "USD", 10_050),
        ("0.01", "GBP", 1),
        ("007.10", "CHF", 710),
        ("1.230", "EUR", 123),  # trailing zeros beyond the digits lose nothing
        ("1500", "JPY", 1500),
        ("1500.000", "JPY", 1500),
        ("10000000000000.00", "EUR", MAX_MINOR_UNITS),
        ("1000000000000000", "JPY", MAX_MINOR_UNITS),
    ],
)
def test_parse_amount_reads_minor_units(text: str, currency: str, minor: int) -> None:
    parsed = parse_amount(text, currency)
    assert parsed == minor
    assert type(parsed) is int


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("1.234", "EUR", r"^amount 1.234 has more than 2 decimals for EUR$"),
        ("0.001", "USD", r"^amount 0.001 has more than 2 decimals for USD$"),
        ("1.5", "JPY", r"^amount 1.5 has decimals, but JPY amounts are whole numbers$"),
        ("0", "EUR", r"^amount must be more than 0, got 0$"),
        ("0.00", "EUR", r"^amount must be more than 0, got 0.00$"),
        ("-3", "EUR", r"^amount must be more than 0, got -3$"),
        ("abc", "EUR", r"^amount 'abc' is not a decimal number; write digits with an optional"),
        ("1e5", "EUR", r"'1e5' is not a decimal number"),
        ("nan", "EUR", r"'nan' is not a decimal number"),
        ("inf", "EUR", r"'inf' is not a decimal number"),
        ("-inf", "EUR", r"'-inf' is not a decimal number"),
        ("0x10", "EUR", r"'0x10' is not a decimal number"),
        ("1_000", "EUR", r"'1_000' is not a decimal number"),
        ("١٢", "EUR", r"is not a decimal number"),  # non-ASCII digits
        (".5", "EUR", r"'.5' is not a decimal number"),
        ("5.", "EUR", r"'5.' is not a decimal number"),
        (" ", "EUR", r"^amount must not be empty"),
        ("", "EUR", r"^amount must not be empty"),
        (
            "10000000000000.01",
            "EUR",
            r"^amount 10000000000000.01 EUR is too large; the most accepted is "
            r"10000000000000.00 EUR \(10\^15 minor units\)$",
        ),
        ("1000000000000001", "JPY", r"the most accepted is 1000000000000000 JPY"),
        ("9" * 41, "JPY", r"is too long \(41 characters\); amounts are at most 10\^15 minor"),
    ],
)
def test_parse_amount_refuses(text: str, currency: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_amount(text, currency)


def test_parse_amount_names_what_it_parses() -> None:
    with pytest.raises(InvalidInput, match=r"^overdraft limit 1.001 has more than 2 decimals"):
        parse_amount("1.001", "EUR", what="overdraft limit", allow_zero=True)


def test_zero_is_allowed_only_when_asked_and_negatives_never() -> None:
    assert parse_amount("0", "EUR", allow_zero=True) == 0
    assert parse_amount("0.00", "JPY", allow_zero=True) == 0
    with pytest.raises(InvalidInput, match=r"^limit must be 0 or more, got -0.01$"):
        parse_amount("-0.01", "EUR", what="limit", allow_zero=True)


def test_unknown_currencies_are_named() -> None:
    with pytest.raises(InvalidInput, match=r"unknown currency 'XAU'; use one of EUR, USD"):
        parse_amount("1", "XAU")
    with pytest.raises(InvalidInput, match="unknown currency"):
        format_amount(1, "eur")
    with pytest.raises(InvalidInput, match="unknown currency"):
        as_currency("BTC")
    assert as_currency("CHF") == "CHF"


def test_currencies_and_their_digits() -> None:
    assert CURRENCIES == ("EUR", "USD", "GBP", "CHF", "JPY")
    assert {c: currency_digits(c) for c in CURRENCIES} == CURRENCY_DIGITS
    assert CURRENCY_DIGITS["JPY"] == 0


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (10_000, "EUR", "100.00"),
        (5, "USD", "0.05"),
        (0, "GBP", "0.00"),
        (-5, "EUR", "-0.05"),
        (-5_000, "CHF", "-50.00"),
        (1500, "JPY", "1500"),
        (-1500, "JPY", "-1500"),
        (MAX_MINOR_UNITS, "EUR", "10000000000000.00"),
    ],
)
def test_format_amount(minor: int, currency: str, text: str) -> None:
    assert format_amount(minor, currency) == text


def test_format_money_adds_the_code() -> None:
    assert format_money(15_000, "EUR") == "150.00 EUR"
    assert format_money(-7, "JPY") == "-7 JPY"


@pytest.mark.parametrize("text", ["12.50", "0", "0.00", "1000000000000000"])
def test_check_decimal_text_accepts_limits(text: str) -> None:
    assert check_decimal_text(text, allow_zero=True) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", r"^must be more than 0, got 0$"),
        ("-1", r"^must be more than 0, got -1$"),
        ("1e3", r"^'1e3' is not a decimal number"),
        ("1000000000000001", r"^1000000000000001 is too large; amounts are capped at 10\^15"),
    ],
)
def test_check_decimal_text_refuses_with_field_free_messages(text: str, message: str) -> None:
    # These messages follow a field name ("amount: ..."), so they must not repeat it.
    with pytest.raises(AmountError, match=message):
        check_decimal_text(text)


def _canonical_amounts() -> st.SearchStrategy[tuple[str, str]]:
    """(currency, a decimal string as format_amount writes it) for every valid amount."""
    return st.sampled_from(CURRENCIES).flatmap(
        lambda c: st.integers(min_value=1, max_value=MAX_MINOR_UNITS).map(
            lambda minor: (c, format_amount(minor, c))
        )
    )


@given(_canonical_amounts())
def test_format_of_parse_round_trips(case: tuple[str, str]) -> None:
    currency, text = case
    assert format_amount(parse_amount(text, currency), currency) == text


@given(
    st.sampled_from(CURRENCIES),
    st.integers(min_value=0, max_value=10**13 - 1),
    st.integers(min_value=0, max_value=99),
)
def test_parse_reads_whole_and_fraction_exactly(currency: str, whole: int, cents: int) -> None:
    digits = CURRENCY_DIGITS[currency]
    fraction = f"{cents:02d}"[:digits]
    text = f"{whole}.{fraction}" if digits else str(whole)
    expected = whole * 10**digits + (int(fraction) if digits else 0)
    if expected == 0:
        assert parse_amount(text, currency, allow_zero=True) == 0
    else:
        assert parse_amount(text, currency) == expected


@given(st.sampled_from(CURRENCIES), st.text(max_size=45))
def test_parse_amount_never_fails_other_than_with_invalid_input(currency: str, text: str) -> None:
    try:
        minor = parse_amount(text, currency)
    except InvalidInput as exc:
        assert "\n" not in exc.message
    else:
        assert 0 < minor <= MAX_MINOR_UNITS
