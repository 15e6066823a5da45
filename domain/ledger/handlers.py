"""One plain function per ledger command: load, check the rules, return the events.

Every refusal says what is wrong and what to do about it, because it is shown as is
in the TUI, printed by the CLI and kept in the audit table.
"""

from __future__ import annotations

from domain.errors import NotFound, RuleRefused
from domain.ledger.account import ACCOUNT, Account
from domain.ledger.commands import (
    CloseAccount,
    Deposit,
    FreezeAccount,
    OpenAccount,
    SetOverdraftLimit,
    Transfer,
    UnfreezeAccount,
    Withdraw,
)
from domain.ledger.events import (
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountUnfrozen,
    MoneyDeposited,
    MoneyWithdrawn,
    OverdraftLimitChanged,
    TransferReceived,
    TransferSent,
)
from domain.ledger.money import (
    MAX_MINOR_UNITS,
    as_currency,
    format_amount,
    grouped_amount,
    money_text,
    parse_amount,
)
from domain.messages import Command
from domain.model import Context, Emit, Handler


def _existing(ctx: Context, account_id: str, role: str = "account") -> Account:
    """The account, refusing one never opened or already closed."""
    account = ctx.load(ACCOUNT, account_id)
    if not account.exists:
        raise NotFound(f"{role} {account_id} does not exist; open it first with open_account")
    if account.status == "closed":
        raise RuleRefused(
            f"{role} {account_id} is closed (reason: {account.closed_reason}); "
            "closed accounts accept no commands"
        )
    return account


def _movable(ctx: Context, account_id: str, role: str = "account") -> Account:
    """The account, refusing it unless money may move in or out of it."""
    account = _existing(ctx, account_id, role)
    if account.status == "frozen":
        raise RuleRefused(
            f"{role} {account_id} is frozen (reason: {account.frozen_reason}); unfreeze it first"
        )
    return account


def _check_funds(account: Account, amount: int, action: str) -> None:
    """Refuse taking `amount` out if it would go beyond the overdraft limit."""
    after = account.balance - amount
    if after < -account.overdraft_limit:
        currency = account.currency
        raise RuleRefused(
            f"{action} of {money_text(amount, currency)} would take {account.account_id} to "
            f"{grouped_amount(after, currency)}, beyond its overdraft limit of "
            f"{grouped_amount(account.overdraft_limit, currency)} "
            f"(at most {money_text(max(account.available, 0), currency)} can leave it)"
        )


def _check_room(account: Account, amount: int, action: str) -> None:
    """Refuse putting `amount` in if the balance would pass the ledger's cap."""
    after = account.balance + amount
    if after > MAX_MINOR_UNITS:
        currency = account.currency
        raise RuleRefused(
            f"{action} of {money_text(amount, currency)} would take {account.account_id} to "
            f"{grouped_amount(after, currency)}, above the largest balance an account may hold "
            f"({money_text(MAX_MINOR_UNITS, currency)})"
        )


def open_account(command: OpenAccount, ctx: Context) -> list[Emit]:
    """Open an account whose id was never used (closed ids are not reused either)."""
    account = ctx.load(ACCOUNT, command.account_id)
    if account.exists:
        raise RuleRefused(
            f"account {command.account_id} already exists ({account.status}, owner "
            f"{account.owner}); account ids are never reused, choose another id"
        )
    limit = parse_amount(
        command.overdraft_limit, command.currency, what="overdraft limit", allow_zero=True
    )
    event = AccountOpened(
        account_id=command.account_id,
        owner=command.owner,
        currency=command.currency,
        overdraft_limit=limit,
    )
    return [Emit(ACCOUNT, command.account_id, event)]


def deposit(command: Deposit, ctx: Context) -> list[Emit]:
    """Credit an open, unfrozen account."""
    account = _movable(ctx, command.account_id)
    amount = parse_amount(command.amount, account.currency)
    _check_room(account, amount, "deposit")
    event = MoneyDeposited(
        account_id=command.account_id,
        amount=amount,
        currency=as_currency(account.currency),
        reference=command.reference,
        channel=command.channel,
    )
    return [Emit(ACCOUNT, command.account_id, event)]


def withdraw(command: Withdraw, ctx: Context) -> list[Emit]:
    """Debit an open, unfrozen account, down to minus its overdraft limit."""
    account = _movable(ctx, command.account_id)
    amount = parse_amount(command.amount, account.currency)
    _check_funds(account, amount, "withdrawal")
    event = MoneyWithdrawn(
        account_id=command.account_id,
        amount=amount,
        currency=as_currency(account.currency),
        reference=command.reference,
    )
    return [Emit(ACCOUNT, command.account_id, event)]


def transfer(command: Transfer, ctx: Context) -> list[Emit]:
    """Debit one account and credit another of the same currency, as one append."""
    source_id, target_id = command.from_account, command.to_account
    if source_id == target_id:
        raise RuleRefused(
            f"cannot transfer from {source_id} to itself; choose a different target account"
        )
    source = _movable(ctx, source_id, "source account")
    target = _movable(ctx, target_id, "target account")
    if source.currency != target.currency:
        raise RuleRefused(
            f"{source_id} holds {source.currency} but {target_id} holds {target.currency}; "
            "transfers must stay in one currency"
        )
    amount = parse_amount(command.amount, source.currency)
    _check_funds(source, amount, "transfer")
    _check_room(target, amount, "transfer")
    sent = TransferSent(
        transfer_id=ctx.new_id(),
        from_account=source_id,
        to_account=target_id,
        amount=amount,
        currency=as_currency(source.currency),
        reference=command.reference,
    )
    # The same fields, validated again as the other half; `sent.__dict__` holds exactly
    # its validated field values (all plain str and int), which `model_dump` would copy.
    received = TransferReceived.model_validate(sent.__dict__)
    return [Emit(ACCOUNT, source_id, sent), Emit(ACCOUNT, target_id, received)]


def freeze_account(command: FreezeAccount, ctx: Context) -> list[Emit]:
    """Stop money movements on an open account that is not frozen yet."""
    account = _existing(ctx, command.account_id)
    if account.status == "frozen":
        raise RuleRefused(
            f"account {command.account_id} is already frozen (reason: {account.frozen_reason})"
        )
    event = AccountFrozen(account_id=command.account_id, reason=command.reason)
    return [Emit(ACCOUNT, command.account_id, event)]


def unfreeze_account(command: UnfreezeAccount, ctx: Context) -> list[Emit]:
    """Let a frozen account move money again."""
    account = _existing(ctx, command.account_id)
    if account.status != "frozen":
        raise RuleRefused(f"account {command.account_id} is not frozen; there is nothing to undo")
    event = AccountUnfrozen(account_id=command.account_id, reason=command.reason)
    return [Emit(ACCOUNT, command.account_id, event)]


def set_overdraft_limit(command: SetOverdraftLimit, ctx: Context) -> list[Emit]:
    """Change an open account's overdraft limit, never below what it already owes."""
    account = _existing(ctx, command.account_id)
    currency = account.currency
    limit = parse_amount(command.limit, currency, what="limit", allow_zero=True)
    if limit == account.overdraft_limit:
        raise RuleRefused(
            f"the overdraft limit of {command.account_id} is already "
            f"{money_text(limit, currency)}; nothing to change"
        )
    owed = -account.balance
    if limit < owed:
        raise RuleRefused(
            f"a limit of {money_text(limit, currency)} is below what {command.account_id} "
            f"already owes ({money_text(owed, currency)}); set at least "
            f"{format_amount(owed, currency)}, or deposit first"
        )
    event = OverdraftLimitChanged(
        account_id=command.account_id, old_limit=account.overdraft_limit, new_limit=limit
    )
    return [Emit(ACCOUNT, command.account_id, event)]


def close_account(command: CloseAccount, ctx: Context) -> list[Emit]:
    """Close an open account whose balance is exactly zero."""
    account = _existing(ctx, command.account_id)
    if account.balance > 0:
        raise RuleRefused(
            f"account {command.account_id} still holds "
            f"{money_text(account.balance, account.currency)}; withdraw or transfer it "
            "before closing"
        )
    if account.balance < 0:
        raise RuleRefused(
            f"account {command.account_id} owes "
            f"{money_text(-account.balance, account.currency)}; deposit it before closing"
        )
    event = AccountClosed(account_id=command.account_id, reason=command.reason)
    return [Emit(ACCOUNT, command.account_id, event)]


HANDLERS: dict[type[Command], Handler] = {
    OpenAccount: open_account,
    Deposit: deposit,
    Withdraw: withdraw,
    Transfer: transfer,
    FreezeAccount: freeze_account,
    UnfreezeAccount: unfreeze_account,
    SetOverdraftLimit: set_overdraft_limit,
    CloseAccount: close_account,
}
"""The handler of each ledger command."""
