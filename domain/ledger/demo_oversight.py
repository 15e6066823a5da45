"""The ledger demo's back office and mistakes: limits, freezes, closures, refusals."""

from __future__ import annotations

from datetime import timedelta

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
from domain.ledger.demo_names import (
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
)
from domain.ledger.demo_setting import (
    _CLOSE_REASONS,
    _FREEZE_REASONS,
    _HOUR,
    _MINUTE,
    _SHOPS,
    _UNFREEZE_REASONS,
    TELLERS,
)
from domain.ledger.demo_traffic import _Traffic
from domain.ledger.money import CURRENCIES, format_amount
from domain.messages import Command


class _Oversight(_Traffic):
    """The back office and the mistakes: limits, freezes, closures, refused attempts."""

    def _change_limit(self) -> None:
        account_id = self._pick(self.active)
        if account_id is None:
            return
        rng = self.rng
        account = self.ledger.account(account_id)
        currency = account.currency
        if account.overdraft_limit == 0 or rng.random() < 0.4:
            limit = self._euros(currency, rng.choice((250, 500, 1000, 2000, 3000)))
        else:
            limit = 0 if rng.random() < 0.5 else account.overdraft_limit // 2
        owed = -account.balance
        if limit < owed and rng.random() > 0.15:
            limit = owed  # ops lowers a limit only to what is owed (now and then they forget)
        if limit == account.overdraft_limit:
            return
        command = SetOverdraftLimit(account_id=account_id, limit=format_amount(limit, currency))
        self.ledger.execute(rng.choice(("ops:erik", "ops:erik", *TELLERS)), command)

    def _freeze(self) -> None:
        account_id = self._pick(self.active)
        if account_id is None:
            return
        rng = self.rng
        currency = self.profiles[account_id].currency
        if 8 <= self._hour() < 18 and rng.random() < 0.6:
            actor = "ops:dana"
            reason = rng.choice(_FREEZE_REASONS)
        else:
            actor = "fraud-monitor"
            city = rng.choice(CITIES[currency])
            reason = f"unusual card activity: {rng.randrange(3, 9)} declined attempts in {city}"
        command = FreezeAccount(account_id=account_id, reason=reason)
        command_id = self.ledger.execute(actor, command)
        if command_id is None:
            return
        self._deactivate(account_id)
        self.frozen.append(account_id)
        # The card keeps being tried while frozen; the rules refuse those attempts.
        for _ in range(rng.randrange(0, 3)):
            self._at(self.now_us + int(rng.uniform(5, 300) * _MINUTE), self._card, account_id)
        later = self._next_business_time(self.now_us + int(rng.uniform(2, 72) * _HOUR))
        self._at(later, self._unfreeze, account_id, command_id)

    def _unfreeze(self, account_id: str, freeze_id: str) -> None:
        if self._room < 1:
            return
        reason = self.rng.choice(_UNFREEZE_REASONS)
        command = UnfreezeAccount(account_id=account_id, reason=reason)
        if self.ledger.execute("ops:dana", command, freeze_id, freeze_id) is None:
            return
        self.frozen.remove(account_id)
        self._activate(account_id)
        # Relieved, the customer pays for something straight away (audit flags this).
        soon = self.now_us + int(self.rng.uniform(2, 20) * _MINUTE)
        self._at(soon, self._card, account_id)

    def _close(self) -> None:
        """Close an account: sweep its balance to zero first, then close it at zero."""
        account_id = self._pick(self.active)
        if account_id is None or self._room < 3 or self.profiles[account_id].business:
            return
        rng = self.rng
        teller = rng.choice(TELLERS)
        # Out of the pools first, so nothing moves money in before the close.
        self._deactivate(account_id)
        self.closing.add(account_id)
        balance = self.ledger.account(account_id).balance
        target = self._other(account_id)
        sweep: str | None = ""
        if balance > 0 and target is not None:
            reference = f"closing balance of {account_id}"
            sweep = self.ledger.transfer(teller, account_id, target, balance, reference)
        elif balance > 0:
            sweep = self.ledger.withdraw(teller, account_id, balance, "closing payout")
        elif balance < 0:
            reference = "overdraft settled before closing"
            sweep = self.ledger.deposit(teller, account_id, -balance, reference, channel="branch")
        command = CloseAccount(account_id=account_id, reason=rng.choice(_CLOSE_REASONS))
        if sweep:
            later = self.now_us + int(rng.uniform(1, 8) * _MINUTE)
            self._at(later, self._finish_close, teller, command, sweep)
        elif sweep is not None:
            self._finish_close(teller, command, "")

    def _finish_close(self, teller: str, command: CloseAccount, sweep_id: str) -> None:
        if self._room >= 1 and self.ledger.execute(teller, command, sweep_id, sweep_id):
            self.closed.append(command.account_id)

    # -- mistakes the rules refuse -------------------------------------------------------
    def _mistake(self) -> None:
        """An attempt a rule refuses, the way people and systems get things wrong."""
        account_id = self._pick(self.active)
        if account_id is None:
            return
        rng = self.rng
        account = self.ledger.account(account_id)
        currency = account.currency
        actor = rng.choice(TELLERS)
        kind = rng.randrange(9)
        weekday = (self.first_day + timedelta(days=self.day)).weekday()
        if kind in (1, 3, 4, 5) and not (weekday < 5 and 8 <= self._hour() < 18):
            kind = 8  # the branch is closed: only machines make mistakes now
        command: Command
        if kind == 0:  # a transfer to an account in another currency
            others = [c for c in CURRENCIES if c != currency and self.by_currency[c]]
            if not others:
                return
            actor = "mobile-app"
            command = Transfer(
                from_account=account_id,
                to_account=self.by_currency[rng.choice(others)].choice(rng),
                amount=format_amount(self._euros(currency, 50), currency),
                reference="holiday money",
            )
        elif kind == 1 and self.closed:  # a deposit to an account closed since
            closed = self.ledger.account(rng.choice(self.closed))
            command = Deposit(
                account_id=closed.account_id,
                amount=format_amount(
                    self._euros(closed.currency, rng.choice((20, 50, 100, 250))), closed.currency
                ),
                channel="branch",
                reference="cash deposit",
            )
        elif kind == 2:  # a typo in the target account id
            actor = "online-banking"
            command = Transfer(
                from_account=account_id,
                to_account=account_id + str(rng.randrange(10)),
                amount=format_amount(self._euros(currency, 25), currency),
                reference="invoice",
            )
        elif kind == 3 and account.balance != 0:  # closing before the balance is zero
            command = CloseAccount(account_id=account_id, reason="customer request")
        elif kind == 4:  # opening an id that is taken
            first, last = rng.choice(FIRST_NAMES[currency]), rng.choice(LAST_NAMES[currency])
            command = OpenAccount(account_id=account_id, owner=f"{first} {last}", currency=currency)
        elif kind == 5:  # unfreezing what is not frozen
            actor = "ops:dana"
            command = UnfreezeAccount(account_id=account_id, reason="customer called")
        elif kind == 6 and self.frozen:  # a transfer into a frozen account
            actor = "mobile-app"
            frozen = self.ledger.account(rng.choice(self.frozen))
            if frozen.currency != currency:
                return
            command = Transfer(
                from_account=account_id,
                to_account=frozen.account_id,
                amount=format_amount(self._euros(currency, 30), currency),
                reference="birthday present",
            )
        else:  # a withdrawal beyond the overdraft limit, at the counter, ATM or a shop
            actor = rng.choice((actor, "atm-network", "card-gateway"))
            over = max(account.available, 0) + self._euros(currency, rng.uniform(5, 2000))
            command = Withdraw(
                account_id=account_id,
                amount=format_amount(over, currency),
                reference="cash"
                if actor != "card-gateway"
                else "card " + rng.choice(_SHOPS[currency]),
            )
        self.ledger.execute(actor, command)
