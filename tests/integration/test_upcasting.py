"""MoneyDeposited v1 -> v2 on a database written before v2 existed.

`tests/fixtures/ledger_v1.db` was written by eventscope before `channel` was added:
accounts a1 (Ada) and a2 (Bob) in EUR, deposits of 100.00 to a1 ("salary") and 5.00
to a2, a transfer of 30.00 from a1 to a2, and one refused withdrawal. Tests work on a
copy: opening a database runs its migrations, and the fixture must stay as written.

What is stored is never rewritten: `verify`, `log` and `export` show the v1 rows as
they are. Everything that reads the domain (the bus, the timeline, the projector,
`import`'s validation) sees them upcast to v2, with `channel: "unknown"`.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli

from domain.envelope import RecordedEvent
from domain.errors import InvalidInput
from domain.ledger import CATALOG, LEDGER, MoneyDeposited
from domain.ledger.events import UNKNOWN_CHANNEL, deposit_v1_to_v2
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.projection import Column, Projection, ProjectionState, fold
from domain.refusals import MergesRefusals
from domain.snapshots import InMemorySnapshots
from domain.timeline import Timeline
from tui.bootstrap import open_workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ledger_v1.db"

V1_DEPOSIT = {"account_id": "a1", "amount": 10_000, "currency": "EUR", "reference": "salary"}
"""Position 3 of the fixture, as stored."""

BALANCES = {"a1": 7_000, "a2": 3_500}
"""What the fixture's accounts hold: 100.00 - 30.00 and 5.00 + 30.00."""


@pytest.fixture
def v1_db(tmp_path: Path) -> Path:
    """A copy of the pre-v2 fixture (the original is never opened by eventscope)."""
    copy = tmp_path / "ledger_v1.db"
    shutil.copyfile(FIXTURE, copy)
    return copy


def stored_rows(db: Path) -> list[tuple[Any, ...]]:
    """Every event row's stored bytes, read with plain sqlite3."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT position, type, schema_version, data, metadata, prev_hash, hash "
            "FROM events ORDER BY position"
        ).fetchall()


class DepositChannels:
    """Deposits counted per channel: a projection that reads the field v2 added."""

    name = "deposit_channels"
    title = "Deposit channels"
    key_title = "channel"
    columns: Sequence[Column] = (Column("n", "Deposits", "int"),)
    version = 1

    def initial(self) -> ProjectionState:
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> Iterable[str]:
        if event.type != "MoneyDeposited":
            return ()
        channel = event.data["channel"]
        row = state.rows.setdefault(channel, {"n": 0})
        row["n"] += 1
        return (channel,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        return None


# --- the upcaster itself ----------------------------------------------------------------


def test_the_upcaster_adds_channel_unknown_and_leaves_its_input_alone() -> None:
    stored = dict(V1_DEPOSIT)
    assert deposit_v1_to_v2(stored) == {**V1_DEPOSIT, "channel": UNKNOWN_CHANNEL}
    assert stored == V1_DEPOSIT  # the caller's dict (perhaps shared) is not mutated


def test_the_upcaster_refuses_a_v1_payload_that_has_a_channel() -> None:
    with pytest.raises(InvalidInput, match="channel is not a field of MoneyDeposited v1"):
        deposit_v1_to_v2({**V1_DEPOSIT, "channel": "online"})


def test_the_catalog_decodes_v1_and_v2_as_the_current_model() -> None:
    assert MoneyDeposited.schema_version == 2
    assert CATALOG.decode("MoneyDeposited", 1, V1_DEPOSIT) == MoneyDeposited(
        **V1_DEPOSIT, channel="unknown"
    )
    v2 = {**V1_DEPOSIT, "channel": "payroll"}
    assert CATALOG.decode("MoneyDeposited", 2, v2).channel == "payroll"
    # Other types are still at version 1 and pass through untouched.
    data = {"account_id": "a1", "reason": "r"}
    assert CATALOG.upcast("AccountFrozen", 1, data) is data


def test_a_stored_version_newer_than_known_is_a_clear_invalid_input() -> None:
    with pytest.raises(
        InvalidInput,
        match=r"^MoneyDeposited is stored at schema version 3, newer than this eventscope "
        r"knows \(2\); upgrade eventscope$",
    ):
        CATALOG.decode("MoneyDeposited", 3, {**V1_DEPOSIT, "channel": "atm"})
    with pytest.raises(InvalidInput, match="no upcaster for MoneyDeposited from schema version 0"):
        CATALOG.decode("MoneyDeposited", 0, V1_DEPOSIT)


def test_a_v2_payload_must_have_a_channel() -> None:
    with pytest.raises(InvalidInput, match=r"^invalid MoneyDeposited: channel is required$"):
        CATALOG.decode("MoneyDeposited", 2, V1_DEPOSIT)


# --- the pre-v2 database ----------------------------------------------------------------


def test_verify_passes_and_the_stored_v1_bytes_stay_as_written(cli: Cli, v1_db: Path) -> None:
    before = stored_rows(v1_db)
    assert [r[2] for r in before if r[1] == "MoneyDeposited"] == [1, 1]

    result = cli("verify", "--json", db_path=v1_db)
    assert result.code == 0, result.err
    assert result.json()["ok"] is True  # type: ignore[index]
    assert cli("exec", "deposit", "account_id=a2", "amount=1.00", db_path=v1_db).code == 0

    assert cli("verify", db_path=v1_db).code == 0  # the chain covers old and new rows
    assert stored_rows(v1_db)[: len(before)] == before


def test_log_shows_the_v1_rows_as_stored(cli: Cli, v1_db: Path) -> None:
    rows = cli("log", "--json", "--type", "MoneyDeposited", db_path=v1_db).lines()
    assert [(r["position"], r["schema_version"]) for r in rows] == [(3, 1), (4, 1)]
    assert rows[0]["data"] == V1_DEPOSIT  # no channel: the audit trail shows what was stored

    text = cli("log", "--from", "3", "--to", "3", db_path=v1_db).out
    assert "+100.00 EUR to a1 · salary" in text  # no channel to show


def test_state_is_what_it_was(cli: Cli, v1_db: Path) -> None:
    result = cli("state", "--projection", "account_balances", "--json", db_path=v1_db)
    assert result.code == 0, result.err
    rows = result.json()
    assert isinstance(rows, dict)
    assert {key: row["balance"] for key, row in rows.items()} == BALANCES
    totals = cli("state", "--projection", "ledger_totals", "--json", db_path=v1_db).json()
    assert isinstance(totals, dict)
    assert totals["EUR"]["deposited"] == 10_500


def test_the_bus_loads_accounts_through_the_upcaster(cli: Cli, v1_db: Path) -> None:
    deposit = cli(
        "exec", "deposit", "account_id=a1", "amount=1.00", "channel=online", db_path=v1_db
    )
    assert deposit.code == 0, deposit.err
    [event] = deposit.json()["events"]  # type: ignore[index]
    assert event["schema_version"] == 2
    assert event["data"] == {
        "account_id": "a1",
        "amount": 100,
        "currency": "EUR",
        "reference": "",
        "channel": "online",
    }
    # The account's balance includes the v1 deposit: exactly all of it may leave.
    too_much = cli("exec", "withdraw", "account_id=a1", "amount=71.01", db_path=v1_db)
    assert too_much.code == 1
    assert "at most 71.00 EUR can leave it" in too_much.err
    assert cli("exec", "withdraw", "account_id=a1", "amount=71.00", db_path=v1_db).code == 0

    [stored] = cli("log", "--json", "--from", "7", "--to", "7", db_path=v1_db).lines()
    assert (stored["type"], stored["schema_version"]) == ("MoneyDeposited", 2)
    assert stored["data"] == event["data"]
    text = cli("log", "--from", "7", "--to", "7", db_path=v1_db).out
    assert "+1.00 EUR to a1 via online" in text
    balances = cli("state", "--projection", "account_balances", "--json", db_path=v1_db).json()
    assert isinstance(balances, dict)
    assert {k: r["balance"] for k, r in balances.items()} == {"a1": 0, "a2": 3_500}


def test_the_timeline_over_a_mixed_history_folds_upcast_events(cli: Cli, v1_db: Path) -> None:
    payroll = ("account_id=a2", "amount=2.00", "channel=payroll")
    assert cli("exec", "deposit", *payroll, db_path=v1_db).code == 0
    assert cli("exec", "deposit", "account_id=a1", "amount=3.00", db_path=v1_db).code == 0
    projections: list[Projection] = [
        *(p for p in LEDGER_PROJECTIONS if not isinstance(p, MergesRefusals)),
        DepositChannels(),
    ]
    ws = open_workspace(v1_db)
    try:
        store = ws.store
        head = store.head().position
        timeline = Timeline(store, projections, LEDGER.catalog, InMemorySnapshots(), cadence=2)
        timeline.build_snapshots()

        def upcast(events: Iterable[RecordedEvent]) -> Iterable[RecordedEvent]:
            for e in events:
                data = CATALOG.upcast(e.type, e.schema_version, dict(e.data))
                yield dataclasses.replace(e, data=data)

        for position in range(head + 1):
            expected = fold(projections, upcast(store.read_all(to=position)))
            got = timeline.state_at(position)
            for projection in projections:
                name = projection.name
                assert got[name].rows == expected[name].rows, (position, name)
        channels = timeline.state_at(head)["deposit_channels"].rows
        assert channels == {"unknown": {"n": 2}, "payroll": {"n": 1}, "branch": {"n": 1}}
        # The workspace's own timeline (what `state` and the app use) upcasts too.
        balances = ws.timeline.state_at(head)["account_balances"].rows
        assert {k: r["balance"] for k, r in balances.items()} == {"a1": 7_300, "a2": 3_700}
    finally:
        ws.close()


# --- export and import ------------------------------------------------------------------


def test_import_of_a_v1_export_validates_through_the_upcaster(
    cli: Cli, v1_db: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "v1.jsonl"
    assert cli("export", str(backup), db_path=v1_db).code == 0
    # The event lines only (as an export made before command records were).
    lines = [line for line in backup.read_text().splitlines() if '"record"' not in line]
    assert '"schema_version":1' in lines[2] and '"channel"' not in lines[2]

    copy = tmp_path / "copy.db"
    result = cli("import", str(backup), db_path=copy)
    assert result.code == 0, result.err
    assert stored_rows(copy) == stored_rows(v1_db)  # kept as exported: v1, same hashes
    assert cli("verify", db_path=copy).code == 0
    rows = cli("state", "--projection", "account_balances", "--json", db_path=copy).json()
    assert isinstance(rows, dict)
    assert {k: r["balance"] for k, r in rows.items()} == BALANCES


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '"reference":"salary"',
            '"reference":"salary","channel":"atm"',
            "channel is not a field of MoneyDeposited v1",
        ),
        ('"amount":10000', '"amount":"100.00"', "amount: Input should be a valid integer"),
        (
            '"schema_version":1',
            '"schema_version":3',
            "MoneyDeposited is stored at schema version 3, newer than this eventscope knows",
        ),
        ('"schema_version":1', '"schema_version":2', "channel is required"),
    ],
)
def test_import_refuses_a_deposit_that_is_not_valid_at_its_version(
    cli: Cli, v1_db: Path, tmp_path: Path, old: str, new: str, message: str
) -> None:
    backup = tmp_path / "v1.jsonl"
    assert cli("export", str(backup), db_path=v1_db).code == 0
    # The event lines only (as an export made before command records were).
    lines = [line for line in backup.read_text().splitlines() if '"record"' not in line]
    assert old in lines[2]
    lines[2] = lines[2].replace(old, new, 1)
    backup.write_text("\n".join(lines) + "\n")

    copy = tmp_path / "copy.db"
    result = cli("import", str(backup), db_path=copy)
    assert result.code == 2
    assert "line 3:" in result.err and message in result.err
    assert stored_rows(copy) == []  # all or nothing


def test_the_deposit_form_offers_the_channels_with_branch_preselected() -> None:
    from domain.ledger import Deposit
    from domain.ledger.events import DEPOSIT_CHANNELS
    from tui.screens.command_form import field_choices

    info = Deposit.model_fields["channel"]
    assert field_choices(info) == list(DEPOSIT_CHANNELS)
    assert "unknown" not in DEPOSIT_CHANNELS
    assert info.default == "branch"
