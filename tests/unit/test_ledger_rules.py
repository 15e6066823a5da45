"""Every rule of the ledger (BRIEF §5), accepted and refused, as given/when/then."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_harness import (
    closed,
    deposited,
    frozen,
    given,
    limit_changed,
    opened,
    transferred,
    unfrozen,
    withdrawn,
)

from domain.errors import InvalidInput, NotFound, RuleRefused
from domain.ledger import (
    ACCOUNT,
    CATALOG,
    COMMANDS,
    EVENTS,
    HANDLERS,
    LEDGER,
    MAX_MINOR_UNITS,
    Account,
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountUnfrozen,
    CloseAccount,
    Deposit,
    FreezeAccount,
    MoneyDeposited,
    OpenAccount,
    OverdraftLimitChanged,
    SetOverdraftLimit,
    Transfer,
    UnfreezeAccount,
    Withdraw,
    evolve,
)
from domain.messages import Event

# --- open_account -------------------------------------------------------------------


def test_open_account_records_the_account_with_its_limit_in_minor_units() -> None:
    scenario = given().when(
        OpenAccount(account_id="a1", owner="Ann", currency="EUR", overdraft_limit="500.00")
    )
    scenario.then(opened("a1", overdraft_limit=50_000))
    account = scenario.account("a1")
    assert (account.status, account.balance, account.overdraft_limit) == ("open", 0, 50_000)


def test_open_account_defaults_to_no_overdraft_and_accepts_a_lowercase_currency() -> None:
    given().when_fields(
        "open_account", {"account_id": "jp-1", "owner": "Ken", "currency": " jpy "}
    ).then(opened("jp-1", currency="JPY", owner="Ken"))


def test_open_account_refuses_an_id_in_use() -> None:
    given(opened("a1")).when(
        OpenAccount(account_id="a1", owner="Bob", currency="USD")
    ).then_refused(RuleRefused, r"account a1 already exists \(open, owner Ann\); .*another id")


def test_open_account_refuses_the_id_of_a_closed_account() -> None:
    given(opened("a1"), closed("a1")).when(
        OpenAccount(account_id="a1", owner="Bob", currency="EUR")
    ).then_refused(RuleRefused, r"already exists \(closed.*never reused")


def test_open_account_checks_the_limit_against_the_currency() -> None:
    given().when(
        OpenAccount(account_id="a1", owner="Ken", currency="JPY", overdraft_limit="10.5")
    ).then_refused(InvalidInput, "overdraft limit 10.5 has decimals, but JPY amounts are whole")


@pytest.mark.parametrize("account_id", ["a", "acc-1", "0", "-", "x" * 40])
def test_open_account_accepts_valid_ids(account_id: str) -> None:
    given().when_fields(
        "open_account", {"account_id": account_id, "owner": "Ann", "currency": "EUR"}
    ).then(opened(account_id))


@pytest.mark.parametrize("account_id", ["", "A1", "a_1", "a 1", "a1/", "é", "x" * 41, "a\nb"])
def test_open_account_refuses_malformed_ids(account_id: str) -> None:
    given().when_fields(
        "open_account", {"account_id": account_id, "owner": "Ann", "currency": "EUR"}
    ).then_refused(
        InvalidInput,
        r"^invalid open_account: account_id: .* is not an account id; use 1 to 40 lowercase",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"currency": "XXX"}, r"currency: Input should be 'EUR', 'USD', 'GBP', 'CHF' or 'JPY'"),
        ({"currency": 978}, r"currency: Input should be"),
        ({"owner": "   "}, r"owner: is empty"),
        ({"owner": "x" * 101}, r"owner: is 101 characters long: at most 100"),
        (
            {"owner": "Ann\nBob"},
            r"owner: contains control, bidi or invisible characters \(U\+000A\)",
        ),
        ({"overdraft_limit": "-1"}, r"overdraft_limit: must be 0 or more, got -1"),
        ({"overdraft_limit": "lots"}, r"overdraft_limit: 'lots' is not a decimal number"),
    ],
)
def test_open_account_refuses_bad_fields(fields: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"account_id": "a1", "owner": "Ann", "currency": "EUR"}
    given().when_fields("open_account", base | fields).then_refused(InvalidInput, message)


def test_open_account_accepts_a_zero_limit_written_with_decimals() -> None:
    given().when_fields(
        "open_account",
        {"account_id": "a1", "owner": "Ann", "currency": "EUR", "overdraft_limit": "0.00"},
    ).then(opened("a1"))


# --- deposit --------------------------------------------------------------------------


def test_deposit_credits_the_account_in_its_currency() -> None:
    scenario = given(opened("a1", currency="GBP")).when(
        Deposit(account_id="a1", amount="100.00", reference="salary")
    )
    scenario.then(deposited("a1", 10_000, currency="GBP", reference="salary"))
    assert scenario.account("a1").balance == 10_000


def test_deposit_records_its_channel_branch_unless_told() -> None:
    given(opened("a1")).when(Deposit(account_id="a1", amount="1")).then(deposited("a1", 100))
    given(opened("a1")).when_fields(
        "deposit", {"account_id": "a1", "amount": "20", "channel": " Payroll ", "reference": "pay"}
    ).then(deposited("a1", 2000, reference="pay", channel="payroll"))


def test_deposit_in_yen_is_whole_units() -> None:
    given(opened("jp", currency="JPY")).when(Deposit(account_id="jp", amount="1500")).then(
        deposited("jp", 1500, currency="JPY")
    )


def test_deposit_refuses_decimals_in_yen() -> None:
    given(opened("jp", currency="JPY")).when(Deposit(account_id="jp", amount="15.5")).then_refused(
        InvalidInput, r"^amount 15.5 has decimals, but JPY amounts are whole numbers$"
    )


def test_deposit_refuses_more_decimals_than_the_currency_has() -> None:
    given(opened("a1")).when(Deposit(account_id="a1", amount="1.234")).then_refused(
        InvalidInput, r"^amount 1.234 has more than 2 decimals for EUR$"
    )


def test_deposit_accepts_trailing_zeros_beyond_the_currency_digits() -> None:
    given(opened("a1")).when(Deposit(account_id="a1", amount="1.230")).then(deposited("a1", 123))


def test_deposit_refuses_an_unknown_account() -> None:
    given().when(Deposit(account_id="nobody", amount="1")).then_refused(
        NotFound, r"^account nobody does not exist; open it first with open_account$"
    )


def test_deposit_refuses_a_frozen_account_and_says_why_it_is_frozen() -> None:
    given(opened("a1"), frozen("a1", "fraud check")).when(
        Deposit(account_id="a1", amount="1")
    ).then_refused(
        RuleRefused, r"^account a1 is frozen \(reason: fraud check\); unfreeze it first$"
    )


def test_deposit_refuses_a_closed_account() -> None:
    given(opened("a1"), closed("a1", "customer left")).when(
        Deposit(account_id="a1", amount="1")
    ).then_refused(
        RuleRefused, r"^account a1 is closed \(reason: customer left\); closed accounts accept"
    )


def test_deposit_works_again_after_unfreezing() -> None:
    given(opened("a1"), frozen("a1"), unfrozen("a1")).when(
        Deposit(account_id="a1", amount="2.50")
    ).then(deposited("a1", 250))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", r"must be more than 0, got 0"),
        ("0.00", r"must be more than 0, got 0.00"),
        ("-5", r"must be more than 0, got -5"),
        ("-0.01", r"must be more than 0, got -0.01"),
        ("abc", r"'abc' is not a decimal number"),
        ("1e5", r"'1e5' is not a decimal number"),
        ("nan", r"'nan' is not a decimal number"),
        ("inf", r"'inf' is not a decimal number"),
        ("1,50", r"'1,50' is not a decimal number"),
        ("+5", r"'\+5' is not a decimal number"),
        (" ", r"must not be empty"),
        ("", r"must not be empty"),
        (
            "99999999999999999",
            r"99999999999999999 is too large; amounts are capped at 10\^15 minor units",
        ),
        ("1" * 41, r"'1{20}'\.\.\. is too long \(41 characters\)"),
        (5.5, r"5.5 is a floating-point number; send amounts as text"),
        (True, r"must be a decimal number written as text"),
        ([1], r"Input should be a valid string"),
    ],
)
def test_deposit_refuses_malformed_amounts_naming_the_field(amount: Any, message: str) -> None:
    given(opened("a1")).when_fields("deposit", {"account_id": "a1", "amount": amount}).then_refused(
        InvalidInput, r"^invalid deposit: amount: " + message
    )


def test_deposit_accepts_a_whole_number_sent_as_json_int() -> None:
    given(opened("a1")).when_fields("deposit", {"account_id": "a1", "amount": 7}).then(
        deposited("a1", 700)
    )


def test_deposit_refuses_an_amount_above_the_cap_for_its_currency() -> None:
    given(opened("a1")).when(Deposit(account_id="a1", amount="10000000000000.01")).then_refused(
        InvalidInput,
        r"^amount 10000000000000.01 EUR is too large; the most accepted is "
        r"10000000000000.00 EUR \(10\^15 minor units\)$",
    )


def test_deposit_accepts_exactly_the_cap() -> None:
    given(opened("a1")).when(Deposit(account_id="a1", amount="10000000000000.00")).then(
        deposited("a1", MAX_MINOR_UNITS)
    )


def test_deposit_refuses_to_take_a_balance_past_the_cap() -> None:
    given(opened("a1"), deposited("a1", MAX_MINOR_UNITS)).when(
        Deposit(account_id="a1", amount="0.01")
    ).then_refused(RuleRefused, r"above the largest balance an account may hold")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"account_id": "a1"}, r"^invalid deposit: amount is required$"),
        ({"amount": "1"}, r"^invalid deposit: account_id is required$"),
        (
            {"account_id": "a1", "amount": "1", "memo": "x"},
            r"^invalid deposit: memo is not a field of deposit$",
        ),
        (
            {"account_id": 1, "amount": "1"},
            r"^invalid deposit: account_id: Input should be a valid",
        ),
        (
            {"account_id": "a1", "amount": "1", "reference": 12},
            r"^invalid deposit: reference: Input should be a valid string$",
        ),
        (
            {"account_id": "a1", "amount": "1", "reference": "r" * 141},
            r"^invalid deposit: reference: is 141 characters long: at most 140$",
        ),
        (
            {"account_id": "a1", "amount": "1", "channel": "pigeon"},
            r"^invalid deposit: channel: Input should be 'branch', 'atm', .* or 'internal'$",
        ),
        (
            # `unknown` is what the upcaster gives deposits recorded before channels were.
            {"account_id": "a1", "amount": "1", "channel": "unknown"},
            r"^invalid deposit: channel: Input should be 'branch'",
        ),
    ],
)
def test_deposit_fields_are_checked_with_one_line_naming_the_field(
    fields: dict[str, Any], message: str
) -> None:
    given(opened("a1")).when_fields("deposit", fields).then_refused(InvalidInput, message)


def test_unknown_command_names_the_known_ones() -> None:
    given().when_fields("depositt", {}).then_refused(
        InvalidInput, r"unknown command 'depositt'; known commands: close_account, deposit,"
    )


# --- withdraw -------------------------------------------------------------------------


def test_withdraw_debits_the_account() -> None:
    scenario = given(opened("a1"), deposited("a1", 10_000)).when(
        Withdraw(account_id="a1", amount="30.00", reference="rent")
    )
    scenario.then(withdrawn("a1", 3000, reference="rent"))
    assert scenario.account("a1").balance == 7000


def test_withdraw_may_empty_an_account_without_overdraft() -> None:
    given(opened("a1"), deposited("a1", 10_000)).when(Withdraw(account_id="a1", amount="100")).then(
        withdrawn("a1", 10_000)
    )


def test_withdraw_exactly_to_the_overdraft_limit_is_allowed() -> None:
    scenario = given(opened("a1", overdraft_limit=5000), deposited("a1", 10_000)).when(
        Withdraw(account_id="a1", amount="150.00")
    )
    scenario.then(withdrawn("a1", 15_000))
    assert scenario.account("a1").balance == -5000


def test_withdraw_beyond_the_overdraft_limit_is_refused() -> None:
    given(opened("a1", overdraft_limit=5000), deposited("a1", 10_000)).when(
        Withdraw(account_id="a1", amount="150.01")
    ).then_refused(
        RuleRefused,
        r"^withdrawal of 150.01 EUR would take a1 to -50.01, beyond its overdraft limit of "
        r"50.00 \(at most 150.00 EUR can leave it\)$",
    )


def test_withdraw_without_overdraft_reads_as_the_brief_says() -> None:
    given(opened("a1"), deposited("a1", 10_000)).when(
        Withdraw(account_id="a1", amount="150.00")
    ).then_refused(
        RuleRefused,
        r"^withdrawal of 150.00 EUR would take a1 to -50.00, beyond its overdraft limit of 0.00",
    )


def test_withdraw_from_an_overdrawn_account_says_nothing_can_leave() -> None:
    given(opened("a1", overdraft_limit=5000), withdrawn("a1", 5000)).when(
        Withdraw(account_id="a1", amount="1")
    ).then_refused(RuleRefused, r"at most 0.00 EUR can leave it")


def test_withdraw_refuses_unknown_frozen_and_closed_accounts() -> None:
    given().when(Withdraw(account_id="zz", amount="1")).then_refused(NotFound, "zz does not exist")
    given(opened("a1"), deposited("a1", 100), frozen("a1", "court order")).when(
        Withdraw(account_id="a1", amount="1")
    ).then_refused(RuleRefused, r"a1 is frozen \(reason: court order\)")
    given(opened("a1"), closed("a1")).when(Withdraw(account_id="a1", amount="1")).then_refused(
        RuleRefused, "a1 is closed"
    )


def test_withdraw_checks_decimals_against_the_currency() -> None:
    given(opened("c", currency="CHF"), deposited("c", 10_000, currency="CHF")).when(
        Withdraw(account_id="c", amount="0.001")
    ).then_refused(InvalidInput, r"^amount 0.001 has more than 2 decimals for CHF$")


# --- transfer -------------------------------------------------------------------------


def test_transfer_sends_from_the_source_and_receives_on_the_target() -> None:
    sent, received = transferred("a1", "b1", 2500, reference="lunch")
    scenario = given(opened("a1"), deposited("a1", 10_000), opened("b1")).when(
        Transfer(from_account="a1", to_account="b1", amount="25.00", reference="lunch")
    )
    scenario.then(sent, received)
    assert scenario.account("a1").balance == 7500
    assert scenario.account("b1").balance == 2500


def test_each_transfer_gets_a_fresh_id_from_the_context() -> None:
    scenario = given(opened("a1"), deposited("a1", 10_000), opened("b1"))
    scenario.when(Transfer(from_account="a1", to_account="b1", amount="1"))
    scenario.when(Transfer(from_account="a1", to_account="b1", amount="1"))
    scenario.then(*transferred("a1", "b1", 100, transfer_id="transfer-000002"))


def test_transfer_exactly_to_the_overdraft_limit_is_allowed() -> None:
    given(opened("a1", overdraft_limit=1000), opened("b1")).when(
        Transfer(from_account="a1", to_account="b1", amount="10")
    ).then(*transferred("a1", "b1", 1000))


def test_transfer_beyond_the_overdraft_limit_is_refused() -> None:
    given(opened("a1", overdraft_limit=1000), opened("b1")).when(
        Transfer(from_account="a1", to_account="b1", amount="10.01")
    ).then_refused(
        RuleRefused,
        r"^transfer of 10.01 EUR would take a1 to -10.01, beyond its overdraft limit of 10.00",
    )


def test_transfer_to_the_same_account_is_refused() -> None:
    given(opened("a1"), deposited("a1", 100)).when(
        Transfer(from_account="a1", to_account="a1", amount="1")
    ).then_refused(RuleRefused, r"^cannot transfer from a1 to itself; choose a different target")


def test_transfer_across_currencies_is_refused() -> None:
    given(opened("a1"), deposited("a1", 10_000), opened("u1", currency="USD")).when(
        Transfer(from_account="a1", to_account="u1", amount="1")
    ).then_refused(RuleRefused, r"^a1 holds EUR but u1 holds USD; transfers must stay in one")


def test_transfer_checks_decimals_against_the_accounts_currency() -> None:
    given(opened("j1", currency="JPY"), deposited("j1", 500, "JPY"), opened("j2", "JPY")).when(
        Transfer(from_account="j1", to_account="j2", amount="1.50")
    ).then_refused(InvalidInput, "amount 1.50 has decimals, but JPY amounts are whole numbers")


@pytest.mark.parametrize(
    ("given_events", "error", "message"),
    [
        ([opened("b1")], NotFound, r"^source account a1 does not exist"),
        ([opened("a1"), deposited("a1", 100)], NotFound, r"^target account b1 does not exist"),
        (
            [opened("a1"), deposited("a1", 100), frozen("a1", "kyc"), opened("b1")],
            RuleRefused,
            r"^source account a1 is frozen \(reason: kyc\); unfreeze it first$",
        ),
        (
            [opened("a1"), deposited("a1", 100), opened("b1"), frozen("b1", "kyc")],
            RuleRefused,
            r"^target account b1 is frozen \(reason: kyc\); unfreeze it first$",
        ),
        (
            [opened("a1"), closed("a1", "moved"), opened("b1")],
            RuleRefused,
            r"^source account a1 is closed \(reason: moved\)",
        ),
        (
            [opened("a1"), deposited("a1", 100), opened("b1"), closed("b1", "moved")],
            RuleRefused,
            r"^target account b1 is closed \(reason: moved\)",
        ),
    ],
)
def test_transfer_needs_both_accounts_open_and_unfrozen(
    given_events: list[Event], error: type[RuleRefused], message: str
) -> None:
    given(*given_events).when(
        Transfer(from_account="a1", to_account="b1", amount="1")
    ).then_refused(error, message)


def test_transfer_refuses_to_take_the_target_past_the_balance_cap() -> None:
    given(opened("a1"), deposited("a1", 100), opened("b1"), deposited("b1", MAX_MINOR_UNITS)).when(
        Transfer(from_account="a1", to_account="b1", amount="0.01")
    ).then_refused(RuleRefused, r"would take b1 to .*above the largest balance")


def test_transfer_fields_are_validated() -> None:
    given().when_fields(
        "transfer", {"from_account": "a1", "to_account": "B1", "amount": "0"}
    ).then_refused(
        InvalidInput,
        r"^invalid transfer: to_account: 'B1' is not an account id.*; "
        r"amount: must be more than 0, got 0$",
    )


# --- freeze_account / unfreeze_account ------------------------------------------------


def test_freeze_records_the_reason() -> None:
    scenario = given(opened("a1")).when(FreezeAccount(account_id="a1", reason="fraud check"))
    scenario.then(AccountFrozen(account_id="a1", reason="fraud check"))
    assert scenario.account("a1").status == "frozen"


def test_freeze_twice_is_refused() -> None:
    given(opened("a1"), frozen("a1", "fraud check")).when(
        FreezeAccount(account_id="a1", reason="again")
    ).then_refused(RuleRefused, r"^account a1 is already frozen \(reason: fraud check\)$")


def test_unfreeze_records_the_reason_and_reopens_money_movements() -> None:
    scenario = given(opened("a1"), frozen("a1")).when(
        UnfreezeAccount(account_id="a1", reason="cleared")
    )
    scenario.then(AccountUnfrozen(account_id="a1", reason="cleared"))
    assert scenario.account("a1").status == "open"
    assert scenario.account("a1").frozen_reason == ""


def test_unfreeze_an_account_that_is_not_frozen_is_refused() -> None:
    given(opened("a1")).when(UnfreezeAccount(account_id="a1", reason="x")).then_refused(
        RuleRefused, r"^account a1 is not frozen; there is nothing to undo$"
    )


def test_freeze_and_unfreeze_refuse_unknown_and_closed_accounts() -> None:
    given().when(FreezeAccount(account_id="a1", reason="x")).then_refused(NotFound, "a1 does not")
    given().when(UnfreezeAccount(account_id="a1", reason="x")).then_refused(NotFound, "a1 does")
    given(opened("a1"), closed("a1")).when(FreezeAccount(account_id="a1", reason="x")).then_refused(
        RuleRefused, "a1 is closed"
    )
    given(opened("a1"), closed("a1")).when(
        UnfreezeAccount(account_id="a1", reason="x")
    ).then_refused(RuleRefused, "a1 is closed")


def test_freeze_needs_a_reason() -> None:
    given(opened("a1")).when_fields(
        "freeze_account", {"account_id": "a1", "reason": ""}
    ).then_refused(InvalidInput, r"^invalid freeze_account: reason: is empty: give a value$")


# --- set_overdraft_limit --------------------------------------------------------------


def test_set_overdraft_limit_records_old_and_new() -> None:
    scenario = given(opened("a1", overdraft_limit=1000)).when(
        SetOverdraftLimit(account_id="a1", limit="250.00")
    )
    scenario.then(OverdraftLimitChanged(account_id="a1", old_limit=1000, new_limit=25_000))
    assert scenario.account("a1").overdraft_limit == 25_000


def test_set_overdraft_limit_to_zero() -> None:
    given(opened("a1", overdraft_limit=1000)).when(
        SetOverdraftLimit(account_id="a1", limit="0")
    ).then(limit_changed("a1", 1000, 0))


def test_set_overdraft_limit_exactly_to_what_is_owed_is_allowed() -> None:
    given(opened("a1", overdraft_limit=5000), withdrawn("a1", 3000)).when(
        SetOverdraftLimit(account_id="a1", limit="30")
    ).then(limit_changed("a1", 5000, 3000))


def test_set_overdraft_limit_below_what_is_owed_is_refused() -> None:
    given(opened("a1", overdraft_limit=5000), withdrawn("a1", 3000)).when(
        SetOverdraftLimit(account_id="a1", limit="29.99")
    ).then_refused(
        RuleRefused,
        r"^a limit of 29.99 EUR is below what a1 already owes \(30.00 EUR\); "
        r"set at least 30.00, or deposit first$",
    )


def test_set_overdraft_limit_negative_is_refused_at_the_form() -> None:
    given(opened("a1")).when_fields(
        "set_overdraft_limit", {"account_id": "a1", "limit": "-10"}
    ).then_refused(
        InvalidInput, r"^invalid set_overdraft_limit: limit: must be 0 or more, got -10$"
    )


def test_set_overdraft_limit_to_the_current_limit_is_refused() -> None:
    given(opened("a1", overdraft_limit=1000)).when(
        SetOverdraftLimit(account_id="a1", limit="10.00")
    ).then_refused(RuleRefused, r"^the overdraft limit of a1 is already 10.00 EUR; nothing to")


def test_set_overdraft_limit_checks_decimals_against_the_currency() -> None:
    given(opened("y", currency="JPY")).when(
        SetOverdraftLimit(account_id="y", limit="0.5")
    ).then_refused(InvalidInput, r"^limit 0.5 has decimals, but JPY amounts are whole numbers$")


def test_set_overdraft_limit_is_allowed_while_frozen() -> None:
    # "open" in the brief's rule means opened and not closed; freezing stops money only.
    given(opened("a1", overdraft_limit=1000), frozen("a1")).when(
        SetOverdraftLimit(account_id="a1", limit="0")
    ).then(limit_changed("a1", 1000, 0))


def test_set_overdraft_limit_refuses_unknown_and_closed_accounts() -> None:
    given().when(SetOverdraftLimit(account_id="a1", limit="1")).then_refused(NotFound, "a1 does")
    given(opened("a1"), closed("a1")).when(
        SetOverdraftLimit(account_id="a1", limit="1")
    ).then_refused(RuleRefused, "a1 is closed")


# --- close_account --------------------------------------------------------------------


def test_close_an_empty_account() -> None:
    scenario = given(opened("a1"), deposited("a1", 500), withdrawn("a1", 500)).when(
        CloseAccount(account_id="a1", reason="customer left")
    )
    scenario.then(AccountClosed(account_id="a1", reason="customer left"))
    assert scenario.account("a1").status == "closed"


def test_close_an_empty_frozen_account() -> None:
    given(opened("a1"), frozen("a1")).when(CloseAccount(account_id="a1", reason="fraud")).then(
        closed("a1", "fraud")
    )


def test_close_a_non_empty_account_is_refused() -> None:
    given(opened("a1"), deposited("a1", 1250)).when(
        CloseAccount(account_id="a1", reason="x")
    ).then_refused(
        RuleRefused, r"^account a1 still holds 12.50 EUR; withdraw or transfer it before closing$"
    )


def test_close_an_overdrawn_account_is_refused() -> None:
    given(opened("a1", overdraft_limit=1000), withdrawn("a1", 1)).when(
        CloseAccount(account_id="a1", reason="x")
    ).then_refused(RuleRefused, r"^account a1 owes 0.01 EUR; deposit it before closing$")


def test_close_twice_or_unknown_is_refused() -> None:
    given(opened("a1"), closed("a1", "moved")).when(
        CloseAccount(account_id="a1", reason="x")
    ).then_refused(RuleRefused, r"^account a1 is closed \(reason: moved\); closed accounts")
    given().when(CloseAccount(account_id="a1", reason="x")).then_refused(NotFound, "a1 does not")


# --- the aggregate and the domain wiring ----------------------------------------------


def test_account_fold_follows_a_whole_life() -> None:
    sent, received = transferred("a1", "b1", 300)
    events: list[Event] = [
        opened("a1", overdraft_limit=100),
        deposited("a1", 1000),
        withdrawn("a1", 200),
        sent,
        frozen("a1", "check"),
        limit_changed("a1", 100, 0),
        unfrozen("a1"),
        withdrawn("a1", 500),
        closed("a1", "done"),
    ]
    state = ACCOUNT.initial()
    assert not state.exists
    for event in events:
        state = evolve(state, event)
    assert state == Account(
        account_id="a1", owner="Ann", currency="EUR", status="closed", closed_reason="done"
    )
    assert state.exists
    assert evolve(Account(), opened("b1")).exists
    assert evolve(evolve(Account(), opened("b1")), received).balance == 300


def test_account_fold_refuses_event_types_it_does_not_know() -> None:
    class Stranger(Event):
        type_name = "Stranger"

    with pytest.raises(TypeError, match="does not know how to apply Stranger"):
        evolve(Account(), Stranger())


def test_account_streams_are_named_after_the_id() -> None:
    assert ACCOUNT.stream_id("a1") == "account-a1"
    assert LEDGER.aggregate_for("account") is ACCOUNT


def test_the_ledger_wires_every_command_to_its_handler() -> None:
    assert LEDGER.name == "ledger"
    assert set(HANDLERS) == set(COMMANDS)
    assert sorted(LEDGER.command_by_name) == [
        "close_account",
        "deposit",
        "freeze_account",
        "open_account",
        "set_overdraft_limit",
        "transfer",
        "unfreeze_account",
        "withdraw",
    ]
    for command in COMMANDS:
        assert command.title, command
        for name, info in command.model_fields.items():
            assert info.description, f"{command.type_name}.{name} needs a description for forms"


# The brief's public contract: these names and fields are what stored data and
# other tools rely on; changing them needs a schema version and an upcaster.
CONTRACT = {
    "AccountOpened": ["account_id", "owner", "currency", "overdraft_limit"],
    "MoneyDeposited": ["account_id", "amount", "currency", "reference", "channel"],
    "MoneyWithdrawn": ["account_id", "amount", "currency", "reference"],
    "TransferSent": [
        "transfer_id",
        "from_account",
        "to_account",
        "amount",
        "currency",
        "reference",
    ],
    "TransferReceived": [
        "transfer_id",
        "from_account",
        "to_account",
        "amount",
        "currency",
        "reference",
    ],
    "AccountFrozen": ["account_id", "reason"],
    "AccountUnfrozen": ["account_id", "reason"],
    "OverdraftLimitChanged": ["account_id", "old_limit", "new_limit"],
    "AccountClosed": ["account_id", "reason"],
}


def test_event_payloads_match_the_public_contract() -> None:
    assert {e.type_name: list(e.model_fields) for e in EVENTS} == CONTRACT
    assert sorted(CATALOG.types) == sorted(CONTRACT)
    versions = {name: CATALOG.current_version(name) for name in CONTRACT}
    assert versions == {name: 2 if name == "MoneyDeposited" else 1 for name in CONTRACT}


def test_stored_events_decode_strictly() -> None:
    data = {"account_id": "a1", "amount": 500, "currency": "EUR", "reference": ""}
    assert CATALOG.decode("MoneyDeposited", 1, data) == deposited("a1", 500, channel="unknown")
    assert CATALOG.decode("MoneyDeposited", 2, data | {"channel": "atm"}) == deposited(
        "a1", 500, channel="atm"
    )
    with pytest.raises(InvalidInput, match="amount: Input should be a valid integer"):
        CATALOG.decode("MoneyDeposited", 1, data | {"amount": "500"})
    with pytest.raises(InvalidInput, match="channel: Input should be 'branch', 'atm'"):
        CATALOG.decode("MoneyDeposited", 2, data | {"channel": "pigeon"})
    with pytest.raises(InvalidInput, match="amount: Input should be greater than 0"):
        CATALOG.decode("MoneyWithdrawn", 1, data | {"amount": 0})


def test_event_payloads_are_json_with_integer_money() -> None:
    assert deposited("a1", 500).payload() == {
        "account_id": "a1",
        "amount": 500,
        "currency": "EUR",
        "reference": "",
        "channel": "branch",
    }
    opened_payload = opened("a1", overdraft_limit=7).payload()
    assert opened_payload["overdraft_limit"] == 7
    assert MoneyDeposited.model_fields["amount"].annotation is int
    assert AccountOpened.model_fields["overdraft_limit"].annotation is int
