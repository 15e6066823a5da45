"""The ledger's five projections, folded over hand-written event sequences.

Events are built as `RecordedEvent`s directly (no bus, no store), so each test states
exactly the history it folds, including histories the handlers would never write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from domain.envelope import RecordedEvent
from domain.ledger.projections import (
    LEDGER_PROJECTIONS,
    AccountBalances,
    ActorActivity,
    AuditFlags,
    DailyActivity,
    LedgerTotals,
    format_minor,
)
from domain.projection import Projection, ProjectionState
from domain.refusals import RefusalTally


@dataclass
class History:
    """Builds recorded events one command at a time: positions, versions, times."""

    at: str = "2026-03-02T09:00:00.000000Z"
    events: list[RecordedEvent] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    commands: int = 0

    def command(self, actor: str, *events: tuple[str, str, dict[str, Any]], at: str = "") -> None:
        """Record one command's events: (type, account whose stream, data) each."""
        self.commands += 1
        if at:
            self.at = at
        command_id = f"cmd-{self.commands}"
        for kind, account, data in events:
            stream = f"account-{account}"
            self.versions[stream] = self.versions.get(stream, 0) + 1
            self.events.append(
                RecordedEvent(
                    position=len(self.events) + 1,
                    event_id=f"ev-{len(self.events) + 1}",
                    stream_id=stream,
                    stream_type="account",
                    version=self.versions[stream],
                    type=kind,
                    schema_version=1,
                    data=data,
                    metadata={
                        "actor": actor,
                        "command_id": command_id,
                        "command_type": kind,
                        "correlation_id": command_id,
                        "causation_id": command_id,
                    },
                    recorded_at=self.at,
                    prev_hash="",
                    hash="",
                )
            )

    def open(
        self,
        account: str,
        currency: str = "EUR",
        limit: int = 0,
        *,
        actor: str = "ann",
        owner: str = "Owner",
        at: str = "",
    ) -> None:
        data = {
            "account_id": account,
            "owner": owner,
            "currency": currency,
            "overdraft_limit": limit,
        }
        self.command(actor, ("AccountOpened", account, data), at=at)

    def deposit(
        self, account: str, amount: int, currency: str = "EUR", *, actor: str = "ann", at: str = ""
    ) -> None:
        data = {"account_id": account, "amount": amount, "currency": currency, "reference": ""}
        self.command(actor, ("MoneyDeposited", account, data), at=at)

    def withdraw(
        self, account: str, amount: int, currency: str = "EUR", *, actor: str = "ann", at: str = ""
    ) -> None:
        data = {"account_id": account, "amount": amount, "currency": currency, "reference": ""}
        self.command(actor, ("MoneyWithdrawn", account, data), at=at)

    def transfer(
        self,
        source: str,
        target: str,
        amount: int,
        currency: str = "EUR",
        *,
        actor: str = "ann",
        at: str = "",
        halves: str = "both",
    ) -> None:
        data = {
            "transfer_id": f"t-{self.commands + 1}",
            "from_account": source,
            "to_account": target,
            "amount": amount,
            "currency": currency,
            "reference": "",
        }
        events = []
        if halves in ("both", "sent"):
            events.append(("TransferSent", source, data))
        if halves in ("both", "received"):
            events.append(("TransferReceived", target, dict(data)))
        self.command(actor, *events, at=at)

    def simple(
        self, kind: str, account: str, *, actor: str = "ann", at: str = "", **data: Any
    ) -> None:
        self.command(actor, (kind, account, {"account_id": account, **data}), at=at)

    def fold(self, projection: Projection) -> ProjectionState:
        state = projection.initial()
        for event in self.events:
            projection.apply(state, event)
        return state


def _changes(projection: Projection, events: Iterable[RecordedEvent]) -> list[list[str]]:
    """The keys `apply` reported for each event, in order."""
    state = projection.initial()
    return [list(projection.apply(state, event)) for event in events]


# --- account_balances ---------------------------------------------------------------------


def test_balances_follow_every_money_movement() -> None:
    history = History()
    history.open("a1", limit=5_000, owner="Ann")
    history.open("b2", currency="EUR", owner="Bob")
    history.deposit("a1", 10_000)
    history.withdraw("a1", 2_500)
    history.transfer("a1", "b2", 12_000)
    rows = history.fold(AccountBalances()).rows
    assert rows["a1"] == {
        "account_id": "a1",
        "owner": "Ann",
        "currency": "EUR",
        "balance": -4_500,
        "overdraft_limit": 5_000,
        "status": "open",
        "version": 4,
        "last_activity": history.at,
    }
    assert rows["b2"]["balance"] == 12_000
    assert rows["b2"]["version"] == 2


def test_balances_track_status_and_limit() -> None:
    history = History()
    history.open("a1")
    history.simple("AccountFrozen", "a1", reason="fraud check")
    assert history.fold(AccountBalances()).rows["a1"]["status"] == "frozen"
    history.simple("AccountUnfrozen", "a1", reason="cleared")
    history.simple("OverdraftLimitChanged", "a1", old_limit=0, new_limit=7_500)
    row = history.fold(AccountBalances()).rows["a1"]
    assert (row["status"], row["overdraft_limit"], row["version"]) == ("open", 7_500, 4)
    history.simple("AccountClosed", "a1", reason="moved away")
    assert history.fold(AccountBalances()).rows["a1"]["status"] == "closed"


def test_balances_report_exactly_the_row_each_event_touched() -> None:
    history = History()
    history.open("a1")
    history.open("b2")
    history.transfer("a1", "b2", 100)
    history.command("ann", ("SomethingElse", "a1", {"account_id": "a1"}))
    assert _changes(AccountBalances(), history.events) == [["a1"], ["b2"], ["a1"], ["b2"], []]


def test_balances_lineage_reads_only_the_accounts_stream() -> None:
    assert AccountBalances().lineage_streams("a1") == ("account-a1",)


def test_money_columns_use_the_rows_currency_digits() -> None:
    balance = next(c for c in AccountBalances().columns if c.name == "balance")
    assert balance.kind == "money"
    assert balance.format({"balance": -123_456, "currency": "EUR"}) == "-1,234.56"
    assert balance.format({"balance": 123_456, "currency": "JPY"}) == "123,456"
    assert balance.format({"balance": 5, "currency": "USD"}) == "0.05"
    assert format_minor(7, "XXX") == "7"


def test_time_columns_show_seconds() -> None:
    column = next(c for c in AccountBalances().columns if c.name == "last_activity")
    assert column.format({"last_activity": "2026-03-02T09:00:07.123456Z"}) == "2026-03-02 09:00:07"


# --- daily_activity -------------------------------------------------------------------------


def test_daily_activity_sums_per_day_and_currency() -> None:
    history = History()
    history.open("a1", at="2026-03-02T08:00:00.000000Z")
    history.open("y1", currency="JPY")
    history.open("b2")
    history.deposit("a1", 10_000)
    history.deposit("y1", 3_000, currency="JPY")
    history.transfer("a1", "b2", 2_000)
    history.withdraw("b2", 500, at="2026-03-03T00:00:00.000000Z")
    history.simple("AccountFrozen", "b2", reason="check")
    rows = history.fold(DailyActivity()).rows
    assert rows["2026-03-02 EUR"] == {
        "day": "2026-03-02",
        "currency": "EUR",
        "deposited": 10_000,
        "withdrawn": 0,
        "transferred": 2_000,
        "events": 5,  # two openings, a deposit, both halves of the transfer
    }
    assert rows["2026-03-02 JPY"]["events"] == 2
    # An event at midnight belongs to the new day; a freeze counts in its account's currency.
    assert rows["2026-03-03 EUR"] == {
        "day": "2026-03-03",
        "currency": "EUR",
        "deposited": 0,
        "withdrawn": 500,
        "transferred": 0,
        "events": 2,
    }


def test_daily_activity_lineage_spans_its_day() -> None:
    projection = DailyActivity()
    assert projection.lineage_streams("2026-03-02 EUR") is None
    assert projection.lineage_span("2026-03-02 EUR") == (
        "2026-03-02T00:00:00.000000Z",
        "2026-03-03T00:00:00.000000Z",
    )
    assert projection.lineage_span("garbage") is None


# --- actor_activity -------------------------------------------------------------------------


def test_actor_activity_counts_commands_and_events() -> None:
    history = History()
    history.open("a1", actor="alice", at="2026-03-02T08:00:00.000000Z")
    history.open("b2", actor="bob")
    history.transfer("a1", "b2", 100, actor="alice", at="2026-03-02T10:00:00.000000Z")
    history.deposit("a1", 100, actor="alice", at="2026-03-02T11:00:00.000000Z")
    rows = history.fold(ActorActivity()).rows
    assert rows["alice"] == {
        "actor": "alice",
        "commands": 3,
        "events": 4,
        "refusals": 0,
        "first_seen": "2026-03-02T08:00:00.000000Z",
        "last_seen": "2026-03-02T11:00:00.000000Z",
        "look_alike": False,
    }
    assert (rows["bob"]["commands"], rows["bob"]["events"]) == (1, 1)


def test_refusals_are_merged_at_read_time_without_touching_the_fold() -> None:
    history = History()
    history.open("a1", actor="alice", at="2026-03-02T08:00:00.000000Z")
    projection = ActorActivity()
    state = history.fold(projection)
    tallies = {
        "alice": RefusalTally(2, "2026-03-01T07:00:00.000000Z", "2026-03-02T09:00:00.000000Z"),
        "mallory": RefusalTally(1, "2026-03-02T08:30:00.000000Z", "2026-03-02T08:30:00.000000Z"),
    }
    merged = projection.merge_refusals(state, tallies)
    assert merged.rows["alice"]["refusals"] == 2
    assert merged.rows["alice"]["first_seen"] == "2026-03-01T07:00:00.000000Z"
    assert merged.rows["alice"]["last_seen"] == "2026-03-02T09:00:00.000000Z"
    assert merged.rows["alice"]["commands"] == 1
    assert merged.rows["mallory"] == {
        "actor": "mallory",
        "commands": 0,
        "events": 0,
        "refusals": 1,
        "first_seen": "2026-03-02T08:30:00.000000Z",
        "last_seen": "2026-03-02T08:30:00.000000Z",
        "look_alike": False,
    }
    assert state.rows["alice"]["refusals"] == 0, "the folded state is left untouched"
    assert "mallory" not in state.rows
    assert projection.merge_refusals(state, {}) is state


# --- audit_flags ------------------------------------------------------------------------


def _flags(state: ProjectionState) -> list[tuple[str, int, str]]:
    return [(r["flag"], r["position"], r["account_id"]) for r in state.rows.values()]


def test_large_transactions_are_flagged_at_the_threshold_once_per_transfer() -> None:
    history = History()
    history.open("a1")
    history.open("b2")
    history.deposit("a1", 999_999)  # just under 10,000.00
    history.deposit("a1", 1_000_000)  # at the threshold
    history.transfer("a1", "b2", 1_500_000)  # one flag, on the sent half
    state = history.fold(AuditFlags())
    assert _flags(state) == [("large", 4, "a1"), ("large", 5, "a1")]
    row = state.rows["0000000005:large:a1"]
    assert row["move"] == "transfer out"
    detail = next(c for c in AuditFlags().columns if c.name == "detail")
    assert detail.format(row) == "transfer out at or over 10,000.00 EUR"


def test_thresholds_are_per_currency_and_configurable() -> None:
    history = History()
    history.open("y1", currency="JPY")
    history.deposit("y1", 1_000_000, currency="JPY")  # ¥1,000,000: under the default
    assert _flags(history.fold(AuditFlags())) == []
    custom = AuditFlags(large_amounts={"JPY": 500_000})
    assert _flags(history.fold(custom)) == [("large", 2, "y1")]
    assert custom.version != AuditFlags().version, "settings are part of the definition"


def test_entering_the_overdraft_is_flagged_once_per_crossing() -> None:
    history = History()
    history.open("a1", limit=50_000)
    history.open("b2")
    history.deposit("a1", 1_000)
    history.withdraw("a1", 1_000)  # to exactly zero: not an overdraft
    history.withdraw("a1", 500)  # 0 -> -500: entered
    history.withdraw("a1", 500)  # already below zero
    history.deposit("a1", 5_000)  # back above
    history.transfer("a1", "b2", 6_000)  # 4,000 -> -2,000: entered again
    state = history.fold(AuditFlags())
    assert _flags(state) == [("overdraft", 5, "a1"), ("overdraft", 8, "a1")]
    detail = next(c for c in AuditFlags().columns if c.name == "detail")
    assert detail.format(state.rows["0000000005:overdraft:a1"]) == (
        "withdrawal took the balance 0.00 → -5.00"
    )


def test_money_moving_within_the_window_after_an_unfreeze_is_flagged() -> None:
    history = History()
    history.open("a1", at="2026-03-02T08:00:00.000000Z")
    history.open("b2")
    history.deposit("a1", 10_000)
    history.simple("AccountFrozen", "a1", reason="check")
    history.simple("AccountUnfrozen", "a1", reason="ok", at="2026-03-02T09:00:00.000000Z")
    history.deposit("b2", 100)  # another account: not flagged
    history.withdraw("a1", 100, at="2026-03-02T09:30:00.000000Z")
    history.transfer("b2", "a1", 50, at="2026-03-02T10:00:00.000000Z")  # at the window's end
    history.withdraw("a1", 100, at="2026-03-02T10:00:00.000001Z")  # just past it
    state = history.fold(AuditFlags())
    assert _flags(state) == [("after_unfreeze", 7, "a1"), ("after_unfreeze", 9, "a1")]
    assert state.rows["0000000009:after_unfreeze:a1"]["move"] == "transfer in"
    assert state.rows["0000000007:after_unfreeze:a1"]["unfrozen_at"] == 5
    narrow = AuditFlags(unfreeze_window=timedelta(minutes=10))
    assert _flags(history.fold(narrow)) == []


def test_a_freeze_closes_the_window_after_an_unfreeze() -> None:
    history = History()
    history.open("a1")
    history.deposit("a1", 10_000)
    history.simple("AccountFrozen", "a1", reason="check")
    history.simple("AccountUnfrozen", "a1", reason="ok")
    history.simple("AccountFrozen", "a1", reason="again")
    history.simple("AccountUnfrozen", "a1", reason="ok", at="2026-03-02T12:00:00.000000Z")
    history.withdraw("a1", 100, at="2026-03-02T12:30:00.000000Z")
    assert _flags(history.fold(AuditFlags())) == [("after_unfreeze", 7, "a1")]


def test_flag_lineage_reads_only_the_flagged_account() -> None:
    projection = AuditFlags()
    assert projection.lineage_streams("0000000005:large:acc-1") == ("account-acc-1",)
    assert projection.lineage_streams("nonsense") is None


# --- ledger_totals ----------------------------------------------------------------------


def test_totals_per_currency_hold_the_invariant() -> None:
    history = History()
    history.open("a1")
    history.open("b2")
    history.open("y1", currency="JPY")
    history.deposit("a1", 10_000)
    history.deposit("y1", 700, currency="JPY")
    history.transfer("a1", "b2", 4_000)
    history.withdraw("b2", 1_000)
    history.simple("AccountFrozen", "a1", reason="check")
    rows = history.fold(LedgerTotals()).rows
    assert rows["EUR"] == {
        "currency": "EUR",
        "balances": 9_000,
        "deposited": 10_000,
        "withdrawn": 1_000,
        "in_transit": 0,
        "open": 1,
        "frozen": 1,
        "closed": 0,
        "invariant": "holding",
    }
    assert (rows["JPY"]["balances"], rows["JPY"]["invariant"]) == (700, "holding")


def test_totals_count_accounts_by_status() -> None:
    history = History()
    history.open("a1")
    history.open("b2")
    history.simple("AccountFrozen", "a1", reason="x")
    history.simple("AccountClosed", "a1", reason="y")  # a frozen account may be closed
    history.simple("AccountClosed", "b2", reason="y")
    history.simple("AccountClosed", "b2", reason="y")  # nonsense twice changes nothing
    row = history.fold(LedgerTotals()).rows["EUR"]
    assert (row["open"], row["frozen"], row["closed"]) == (0, 0, 2)


def test_between_the_halves_of_a_transfer_the_money_is_in_transit() -> None:
    history = History()
    history.open("a1")
    history.open("b2")
    history.deposit("a1", 10_000)
    history.transfer("a1", "b2", 4_000)
    projection = LedgerTotals()
    state = projection.initial()
    for event in history.events[:-1]:
        projection.apply(state, event)
    row = state.rows["EUR"]
    assert (row["balances"], row["in_transit"], row["invariant"]) == (6_000, 4_000, "in transfer")
    assert list(projection.apply(state, history.events[-1])) == ["EUR"]
    assert (row["balances"], row["in_transit"], row["invariant"]) == (10_000, 0, "holding")


def test_a_transfer_half_left_unmatched_breaks_the_invariant() -> None:
    history = History()
    history.open("a1")
    history.open("b2")
    history.deposit("a1", 10_000)
    history.transfer("a1", "b2", 4_000, halves="sent")
    history.deposit("b2", 1)  # the next command: the other half never came
    changes = _changes(LedgerTotals(), history.events)
    assert changes[-1] == ["EUR"]
    row = history.fold(LedgerTotals()).rows["EUR"]
    assert (row["in_transit"], row["invariant"]) == (4_000, "broken")


def test_money_in_another_currency_than_its_account_breaks_both() -> None:
    history = History()
    history.open("a1", currency="EUR")
    history.open("u1", currency="USD")
    history.deposit("a1", 500, currency="USD")  # only an import could write this
    rows = history.fold(LedgerTotals()).rows
    assert (rows["EUR"]["balances"], rows["EUR"]["invariant"]) == (500, "broken")
    assert (rows["USD"]["deposited"], rows["USD"]["invariant"]) == (500, "broken")


def test_totals_report_only_rows_that_changed() -> None:
    history = History()
    history.open("a1")
    history.simple("OverdraftLimitChanged", "a1", old_limit=0, new_limit=100)
    history.simple("AccountUnfrozen", "a1", reason="not frozen: changes nothing")
    history.deposit("a1", 1)
    assert _changes(LedgerTotals(), history.events) == [["EUR"], [], [], ["EUR"]]


# --- all of them -----------------------------------------------------------------------


def _ledger_history() -> History:
    history = History()
    history.open("a1", limit=10_000, actor="alice")
    history.open("b2", actor="bob")
    history.open("y1", currency="JPY", actor="bob")
    history.deposit("a1", 2_000_000, actor="alice")
    history.transfer("a1", "b2", 2_005_000, actor="alice")
    history.simple("AccountFrozen", "b2", actor="carol", reason="check")
    history.simple("AccountUnfrozen", "b2", actor="carol", reason="ok")
    history.withdraw("b2", 100, actor="bob")
    history.deposit("y1", 2_000_000, currency="JPY", actor="bob")
    history.simple("OverdraftLimitChanged", "a1", actor="alice", old_limit=10_000, new_limit=0)
    return history


@pytest.mark.parametrize("projection", LEDGER_PROJECTIONS, ids=lambda p: p.name)
def test_apply_reports_exactly_the_rows_whose_values_changed(projection: Projection) -> None:
    state = projection.initial()
    for event in _ledger_history().events:
        before = {k: dict(v) for k, v in state.rows.items()}
        keys = list(projection.apply(state, event))
        differing = {
            k for k in state.rows.keys() | before.keys() if before.get(k) != state.rows.get(k)
        }
        assert sorted(keys) == sorted(differing), event
        assert len(keys) == len(set(keys))


@pytest.mark.parametrize("projection", LEDGER_PROJECTIONS, ids=lambda p: p.name)
def test_every_projection_describes_its_columns(projection: Projection) -> None:
    state = projection.initial()
    for event in _ledger_history().events:
        projection.apply(state, event)
    assert state.rows
    names = [c.name for c in projection.columns]
    assert len(names) == len(set(names))
    for row in state.rows.values():
        for column in projection.columns:
            assert isinstance(column.format(row), str)
        stored = set(row) - {"move", "threshold", "before", "after", "unfrozen_at"}
        assert stored <= set(names), f"{projection.name} hides {stored - set(names)}"


def test_the_five_projections_are_exported_in_panel_order() -> None:
    names: Sequence[str] = [p.name for p in LEDGER_PROJECTIONS]
    assert names == [
        "account_balances",
        "daily_activity",
        "actor_activity",
        "audit_flags",
        "ledger_totals",
    ]


def test_actor_activity_flags_a_look_alike_name_that_mixes_scripts() -> None:
    history = History()
    history.open("a1", actor="ann")
    history.open("b2", actor="\u0430nn")  # a Cyrillic "a" (U+0430), then Latin "nn"
    projection = ActorActivity()
    rows = history.fold(projection).rows
    assert (rows["ann"]["look_alike"], rows["\u0430nn"]["look_alike"]) == (False, True)
    column = next(c for c in projection.columns if c.name == "look_alike")
    assert (column.format(rows["ann"]), column.format(rows["\u0430nn"])) == ("", "mixed scripts")
