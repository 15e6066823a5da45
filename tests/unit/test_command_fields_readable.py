"""A refused command's fields read by the one rule: an amount typed `1047.76` reads
`1,047.76 EUR` with the currency the command or its account gives (issue 12)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.ledger.description import LEDGER_DOMAIN
from domain.ledger.money import CURRENCY_DIGITS, MAX_MINOR_UNITS, format_amount, money_text


@given(
    minor=st.integers(min_value=1, max_value=MAX_MINOR_UNITS),
    currency=st.sampled_from(sorted(CURRENCY_DIGITS)),
)
def test_a_typed_amount_reads_as_the_log_writes_it(minor: int, currency: str) -> None:
    typed = {"account_id": "a1", "amount": format_amount(minor, currency)}
    readable = LEDGER_DOMAIN.readable_payload(typed, {"currency": currency})
    assert readable == {"account_id": "a1", "amount": money_text(minor, currency)}


def test_the_command_s_own_currency_wins_over_its_account_s() -> None:
    typed = {"amount": "1047.76", "currency": "USD"}
    readable = LEDGER_DOMAIN.readable_payload(typed, {"currency": "EUR"})
    assert readable["amount"] == "1,047.76 USD"


@given(typed=st.sampled_from(["12.345", "-5", "abc", "", "1e3", "\u202e12"]))
def test_what_is_no_amount_of_the_currency_stays_as_typed(typed: str) -> None:
    readable = LEDGER_DOMAIN.readable_payload({"amount": typed}, {"currency": "EUR"})
    assert readable["amount"] == typed


def test_without_a_currency_an_amount_stays_as_typed() -> None:
    assert LEDGER_DOMAIN.readable_payload({"amount": "1047.76"}, {}) == {"amount": "1047.76"}
