"""Validation errors, told two ways from one reading of pydantic's errors: one line
for the CLI (`describe_validation_error`) and one message per field for a form."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.ledger.commands import Deposit
from domain.messages import describe_validation_error, field_errors


def _error(data: dict[str, object]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Deposit.model_validate(data)
    return caught.value


def test_a_missing_field_is_required_in_both_reports() -> None:
    error = _error({"amount": "1.00"})
    assert "account_id is required" in describe_validation_error("deposit", error)
    assert field_errors(error)["account_id"] == "required"


def test_a_bad_value_keeps_the_rules_words_without_pydantics_prefix() -> None:
    error = _error({"account_id": "a1", "amount": "-5"})
    line = describe_validation_error("deposit", error)
    per_field = field_errors(error)
    assert line.startswith("invalid deposit: amount: ")
    assert "Value error" not in line and "Value error" not in per_field["amount"]
    assert per_field["amount"] in line


def test_an_unknown_field_is_named_as_not_a_field() -> None:
    error = _error({"account_id": "a1", "amount": "1.00", "colour": "red"})
    assert "colour is not a field of deposit" in describe_validation_error("deposit", error)
    assert "colour" in field_errors(error)
