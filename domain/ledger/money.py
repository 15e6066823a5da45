"""Money as integer minor units (cents), parsed from and formatted to decimal strings.

Floats never touch money: a decimal string is split into its digits and read as an
int, so `0.1 + 0.2` style errors cannot happen and huge inputs cannot round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal, cast, get_args

from domain.cells import grouped_decimal
from domain.errors import InvalidInput

Currency = Literal["EUR", "USD", "GBP", "CHF", "JPY"]
"""The currencies the ledger knows (ISO 4217 codes)."""

CURRENCIES: Final[tuple[Currency, ...]] = get_args(Currency)

CURRENCY_DIGITS: Final[Mapping[str, int]] = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0}
"""How many decimals each currency's minor unit has (JPY has no minor unit)."""

MAX_MINOR_UNITS: Final = 10**15
"""The largest amount, limit or balance accepted, in minor units (10^13 EUR, 10^15 JPY).

Far beyond any real transaction, yet sums of many such values stay well inside a
64-bit SQLite INTEGER, so read models never overflow.
"""

_CAP = f"10^{len(str(MAX_MINOR_UNITS)) - 1} minor units"
_MAX_TEXT_LENGTH: Final = 40
# ASCII digits only: `\d` and `Decimal` would accept other scripts' digits ("٣"), and
# exponents, "nan" and "inf" are refused by not matching at all.
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
_EXAMPLE = "e.g. 12.50"


class AmountError(ValueError):
    """Why a decimal string is not an acceptable amount, worded to follow its field name.

    Messages read well both as `amount: <message>` (pydantic field errors) and as
    `amount <message>` (`parse_amount`): "must be more than 0, got -5".
    """


def currency_digits(currency: str) -> int:
    """The number of decimals of `currency`; InvalidInput for an unknown currency."""
    try:
        return CURRENCY_DIGITS[currency]
    except KeyError:
        known = ", ".join(CURRENCIES)
        raise InvalidInput(f"unknown currency {currency!r}; use one of {known}") from None


def as_currency(code: str) -> Currency:
    """`code` as a `Currency`; InvalidInput for a code the ledger does not know."""
    currency_digits(code)
    return cast(Currency, code)


def _split(text: str, *, allow_zero: bool) -> tuple[str, str]:
    """(whole digits, fraction digits without trailing zeros) of a decimal string."""
    whole, point, fraction = text.partition(".")
    if (
        # Plain digits with an optional point ("1234.50"): every command's amount, which
        # the slow path below would accept as is; anything else is left to it (and to
        # its messages). ASCII `isdigit` is exactly [0-9], and "" is not digits.
        text.isascii()
        and whole.isdigit()
        and (fraction.isdigit() or not point)
        and len(text) <= _MAX_TEXT_LENGTH
    ):
        fraction = fraction.rstrip("0")
        if allow_zero or fraction or whole.strip("0"):
            return whole, fraction
    if not text.strip():
        raise AmountError(f"must not be empty; write a decimal number, {_EXAMPLE}")
    if len(text) > _MAX_TEXT_LENGTH:
        raise AmountError(
            f"{text[:20]!r}... is too long ({len(text)} characters); amounts are at most {_CAP}"
        )
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise AmountError(
            f"{text!r} is not a decimal number; write digits with an optional point, {_EXAMPLE}"
        )
    minus, whole, fraction = match.group(1), match.group(2), (match.group(3) or "")
    fraction = fraction.rstrip("0")
    is_zero = not whole.strip("0") and not fraction
    if minus and not is_zero:
        bound = "0 or more" if allow_zero else "more than 0"
        raise AmountError(f"must be {bound}, got {text}")
    if is_zero and not allow_zero:
        raise AmountError(f"must be more than 0, got {text}")
    return whole, fraction


def check_decimal_text(text: str, *, allow_zero: bool = False) -> str:
    """Check the shape of an amount before its currency is known; return `text`.

    Refuses non-numbers, negatives, zero (unless `allow_zero`) and values too large
    for any currency. Raises `AmountError` (a ValueError, so pydantic validators can
    use it). The currency's digits are checked later by `parse_amount`.
    """
    whole, _ = _split(text, allow_zero=allow_zero)
    if int(whole) > MAX_MINOR_UNITS:  # the cap in JPY, the most generous currency
        raise AmountError(f"{text} is too large; amounts are capped at {_CAP}")
    return text


def parse_amount(
    text: str, currency: str, *, what: str = "amount", allow_zero: bool = False
) -> int:
    """`text` as integer minor units of `currency` (`"100.00"` EUR -> 10000).

    Accepts at most the currency's decimals (trailing zeros beyond them are harmless:
    `"1.230"` EUR is 123). Refuses non-numbers, negatives, zero unless `allow_zero`,
    and anything above `MAX_MINOR_UNITS`. Raises `InvalidInput` whose message starts
    with `what`, e.g. "amount 1.234 has more than 2 decimals for EUR".
    """
    digits = currency_digits(currency)
    try:
        whole, fraction = _split(text, allow_zero=allow_zero)
    except AmountError as exc:
        raise InvalidInput(f"{what} {exc}") from None
    if len(fraction) > digits:
        if digits == 0:
            raise InvalidInput(
                f"{what} {text} has decimals, but {currency} amounts are whole numbers"
            )
        raise InvalidInput(f"{what} {text} has more than {digits} decimals for {currency}")
    minor = int(whole + fraction.ljust(digits, "0"))
    if minor > MAX_MINOR_UNITS:
        raise InvalidInput(
            f"{what} {text} {currency} is too large; the most accepted is "
            f"{format_money(MAX_MINOR_UNITS, currency)} ({_CAP})"
        )
    return minor


def format_amount(minor: int, currency: str) -> str:
    """Minor units as a plain decimal string (10000 EUR -> "100.00", -5 -> "-0.05").

    The inverse of `parse_amount` for positive amounts: no grouping, no currency code.
    """
    digits = currency_digits(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    if digits == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{digits}d}"


def format_money(minor: int, currency: str) -> str:
    """Minor units with the currency code, for messages ("150.00 EUR").

    Refusal reasons are worded with it and stored, so it stays ungrouped: what a person
    reads on screen is `money_text`.
    """
    return f"{format_amount(minor, currency)} {currency}"


def grouped_amount(minor: int, currency: str, *, signed: bool = False) -> str:
    """Minor units as a grouped decimal for screens (`-1,234.56`; JPY `1,234`).

    An unknown currency (only possible in imported garbage) shows the grouped integer
    of minor units: never a guess at its decimals.
    """
    digits = CURRENCY_DIGITS.get(currency, 0)
    return grouped_decimal(minor, digits, signed=signed)


def money_text(minor: int, currency: str, *, signed: bool = False) -> str:
    """Minor units as a person reads money: `+1,441.36 EUR`, `1,380,048 JPY`.

    The one rule behind the log, the inspector, aggregate history and the CLI; panels
    show `grouped_amount` alone when the currency has its own column.
    """
    return f"{grouped_amount(minor, currency, signed=signed)} {currency}".rstrip()
