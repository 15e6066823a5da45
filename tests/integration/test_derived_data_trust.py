"""Nothing derived is believed without a check (issue 9, section 3).

Snapshots, read models, the projector's checkpoint and the commands (idempotency)
rows are derived from the events and shown as truth. Each forgery below is made with
plain sqlite3 on a real demo ledger, as someone with the file would. Without a key,
`verify --deep` recomputes and names it; with the chain's HMAC key it is also caught
where the row is used (`state --at`, `diff`, the projector, the bus), exit 1.
"""

from __future__ import annotations

import shutil
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from reliability_support import run_cli

KEY = b"the auditor's HMAC key"
EVENTS = 2600
"""Enough for two snapshots (the cadence is 1024) and a tail after them."""
PLAIN, KEYED = "plain", "keyed"


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTSCOPE_KEY", raising=False)
    monkeypatch.delenv("EVENTSCOPE_KEY_FILE", raising=False)


@dataclass(frozen=True)
class Ledger:
    db: Path
    key_file: Path | None

    def cli(self, *args: str) -> tuple[int, str, str]:
        options = ["--db", str(self.db), "--actor", "tester"]
        if self.key_file is not None:
            options += ["--key-file", str(self.key_file)]
        result = run_cli(*options, *args)
        return result.code, result.out, result.err

    def sql(self, *statements: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                rows = conn.execute(statement, params if "?" in statement else ()).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One demo ledger per mode (snapshots, read models and commands rows included)."""
    made = {}
    for mode in (PLAIN, KEYED):
        folder = tmp_path_factory.mktemp(mode)
        ledger = _ledger(folder, mode)
        code, _, err = ledger.cli("demo", "--events", str(EVENTS), "--no-open")
        assert code == 0, err
        ledger.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        made[mode] = ledger.db
    return made


def _ledger(folder: Path, mode: str) -> Ledger:
    key_file = None
    if mode == KEYED:
        key_file = folder / "key"
        key_file.write_bytes(KEY)
    return Ledger(folder / "bank.db", key_file)


@pytest.fixture(params=[PLAIN, KEYED])
def ledger(request: pytest.FixtureRequest, templates: dict[str, Path], tmp_path: Path) -> Ledger:
    made = _ledger(tmp_path, request.param)
    shutil.copy(templates[request.param], made.db)
    return made


# -- the forgeries -------------------------------------------------------------------------


def forge_snapshot_blob(ledger: Ledger) -> None:
    """The manifest at #2048 replaced by the one at #1024: `state --at` shows the past."""
    ledger.sql(
        "UPDATE snapshots SET blob = (SELECT blob FROM snapshots WHERE position = 1024) "
        "WHERE position = 2048"
    )


def forge_read_model_row(ledger: Ledger) -> None:
    """An account row shows Mallory with 1,234,567.89."""
    ledger.sql(
        "UPDATE rm_account_balances SET row = json_set(row, '$.owner', 'Mallory', "
        "'$.balance', 123456789) WHERE key = (SELECT min(key) FROM rm_account_balances)"
    )


def forge_checkpoint_back_one(ledger: Ledger) -> None:
    """The checkpoint claims one event less than the tables hold."""
    ledger.sql("UPDATE projector_checkpoint SET position = position - 1")


FUTURE_ID = "pay-future-1"


def forge_future_command(ledger: Ledger) -> None:
    """A commands row for an id a client will use later: its command would be a no-op."""
    ledger.sql(
        "INSERT INTO commands (command_id, command_type, payload, actor, recorded_at, "
        "first_position, last_position) SELECT ?, 'deposit', NULL, 'mallory', "
        "max(recorded_at), max(position) + 1, max(position) + 1 FROM events",
        params=(FUTURE_ID,),
    )


FORGERIES: dict[str, tuple[Callable[[Ledger], None], tuple[str, ...]]] = {
    "snapshot blob": (forge_snapshot_blob, ("snapshot at #2048",)),
    "read-model row": (forge_read_model_row, ("account_balances row",)),
    "checkpoint moved back one": (forge_checkpoint_back_one, ("checkpoint", f"#{EVENTS - 1}")),
    "pre-seeded commands row": (forge_future_command, (f"command id {FUTURE_ID}",)),
}
Forgery = tuple[str, Callable[[Ledger], None], tuple[str, ...]]


@pytest.fixture(params=list(FORGERIES))
def forgery(request: pytest.FixtureRequest) -> Iterator[Forgery]:
    forge, named = FORGERIES[request.param]
    yield request.param, forge, named


def test_an_untouched_ledger_verifies_deep(ledger: Ledger) -> None:
    code, out, err = ledger.cli("verify", "--deep", "--json")
    assert code == 0, err
    report = orjson.loads(out)
    assert report["ok"] and report["deep"]["ok"]
    assert report["deep"]["read_models_position"] == EVENTS
    assert report["deep"]["snapshots"] == 2
    assert report["deep"]["commands"] > 0


def test_verify_deep_names_each_forgery(ledger: Ledger, forgery: Forgery) -> None:
    _, forge, named = forgery
    forge(ledger)
    assert ledger.cli("verify")[0] == 0  # the chain itself is intact
    code, out, err = ledger.cli("verify", "--deep")
    assert code == 1
    assert "deep check failed" in err and all(word in err for word in named)
    code, out, _ = ledger.cli("verify", "--deep", "--json")
    assert code == 1
    report = orjson.loads(out)
    assert report["ok"] is False and report["deep"]["ok"] is False
    assert all(word in report["deep"]["problem"]["message"] for word in named)


# -- caught where the row is used ----------------------------------------------------------


def _one_line_refusal(result: tuple[int, str, str], *words: str) -> None:
    code, _, err = result
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err


@pytest.mark.parametrize("ledger", [KEYED], indirect=True)
def test_with_a_key_a_forged_snapshot_is_refused_by_state_and_diff(ledger: Ledger) -> None:
    forge_snapshot_blob(ledger)
    _one_line_refusal(ledger.cli("state", "--at", "2100", "--json"), "snapshot at #2048", "HMAC")
    _one_line_refusal(ledger.cli("diff", "1", "2100"), "rebuild")


def test_without_a_key_a_forged_snapshot_changes_state(ledger: Ledger) -> None:
    """Why the deep check exists: nothing at use notices without a key."""
    if ledger.key_file is not None:
        pytest.skip("with a key the forgery is refused (test above)")
    honest = ledger.cli("state", "--at", "2100", "--json")[1]
    forge_snapshot_blob(ledger)
    code, forged, _ = ledger.cli("state", "--at", "2100", "--json")
    assert code == 0 and forged != honest


@pytest.mark.parametrize("ledger", [KEYED], indirect=True)
def test_with_a_key_the_projector_refuses_a_moved_checkpoint(ledger: Ledger) -> None:
    forge_checkpoint_back_one(ledger)
    before = ledger.sql("SELECT key, row FROM rm_actor_activity ORDER BY key")
    _one_line_refusal(ledger.cli("project"), "checkpoint", f"#{EVENTS - 1}", "HMAC")
    assert ledger.sql("SELECT key, row FROM rm_actor_activity ORDER BY key") == before


def test_a_commands_row_without_its_events_is_an_error_not_a_duplicate(ledger: Ledger) -> None:
    forge_future_command(ledger)
    head = ledger.sql("SELECT max(position) FROM events")
    account = ledger.sql("SELECT min(key) FROM rm_account_balances")[0][0]
    result = ledger.cli(
        "exec", "deposit", f"account_id={account}", "amount=1.00", "--command-id", FUTURE_ID
    )
    _one_line_refusal(result, FUTURE_ID, "no event there carries that id")
    assert "duplicate" not in result[1]
    assert ledger.sql("SELECT max(position) FROM events") == head


@pytest.mark.parametrize("ledger", [KEYED], indirect=True)
def test_with_a_key_a_commands_row_with_no_events_is_refused(ledger: Ledger) -> None:
    """A row claiming no events (0..0) passes the structural check; only its HMAC tells."""
    ledger.sql(
        "INSERT INTO commands (command_id, command_type, payload, actor, recorded_at, "
        "first_position, last_position) VALUES ('noop-1', 'deposit', NULL, 'm', 'x', 0, 0)"
    )
    account = ledger.sql("SELECT min(key) FROM rm_account_balances")[0][0]
    result = ledger.cli(
        "exec", "deposit", f"account_id={account}", "amount=1.00", "--command-id", "noop-1"
    )
    _one_line_refusal(result, "noop-1", "HMAC")


def test_a_genuine_retry_is_still_a_duplicate(ledger: Ledger) -> None:
    account = ledger.sql("SELECT min(key) FROM rm_account_balances")[0][0]
    args = ("exec", "deposit", f"account_id={account}", "amount=1.00", "--command-id", "retry-1")
    first = ledger.cli(*args)
    again = ledger.cli(*args)
    assert first[0] == again[0] == 0, again[2]
    assert orjson.loads(again[1])["duplicate"] is True
    assert ledger.cli("verify", "--deep")[0] == 0


# -- the schema ----------------------------------------------------------------------------


@pytest.mark.parametrize("ledger", [PLAIN], indirect=True)
def test_verify_reports_a_dropped_trigger(ledger: Ledger) -> None:
    ledger.sql("DROP TRIGGER commands_no_delete")
    code, _, err = ledger.cli("verify")
    assert code == 1
    assert "trigger commands_no_delete is missing" in err


@pytest.mark.parametrize("ledger", [PLAIN], indirect=True)
def test_verify_reports_an_altered_trigger(ledger: Ledger) -> None:
    ledger.sql(
        "DROP TRIGGER events_no_update",
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events WHEN 0 BEGIN "
        "SELECT RAISE(ABORT, 'events are append-only: UPDATE is refused'); END",
    )
    code, out, _ = ledger.cli("verify", "--json")
    assert code == 1
    assert "events_no_update was altered" in orjson.loads(out)["schema"]["problem"]


@pytest.mark.parametrize("ledger", [PLAIN], indirect=True)
@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE meta SET value = '3' WHERE key = 'schema_version'",
        "PRAGMA user_version = 7",
        "PRAGMA user_version = 99",
    ],
)
def test_verify_reports_a_changed_schema_version(ledger: Ledger, edit: str) -> None:
    ledger.sql(edit)
    code, _, err = ledger.cli("verify")
    assert code == 1, err
    assert "schema" in err and len(err.strip().splitlines()) <= 3
    assert "Traceback" not in err


# -- rebuild -------------------------------------------------------------------------------


def test_rebuild_replaces_forged_snapshots(ledger: Ledger) -> None:
    forge_snapshot_blob(ledger)
    forged = ledger.sql("SELECT blob FROM snapshots WHERE position = 2048")
    code, _, err = ledger.cli("rebuild")
    assert code == 0, err
    assert ledger.sql("SELECT blob FROM snapshots WHERE position = 2048") != forged
    assert ledger.sql("SELECT position FROM snapshots ORDER BY position") == [(1024,), (2048,)]
    assert ledger.cli("verify", "--deep")[0] == 0
    assert ledger.cli("state", "--at", "2100")[0] == 0


def test_rebuild_clears_a_forged_chunk(ledger: Ledger) -> None:
    """A chunk edited in place (its digest no longer its content) is gone after rebuild."""
    digest, blob = ledger.sql("SELECT digest, blob FROM snapshot_chunks LIMIT 1")[0]
    assert isinstance(blob, bytes)
    rows = orjson.loads(zlib.decompress(blob))
    first = next(iter(rows))
    rows[first] = {"forged": True}
    ledger.sql(
        "UPDATE snapshot_chunks SET blob = ? WHERE digest = ?",
        params=(zlib.compress(orjson.dumps(rows)), digest),
    )
    code, _, err = ledger.cli("verify", "--deep")
    assert code == 1 and "does not match its digest" in err
    assert ledger.cli("rebuild")[0] == 0
    assert ledger.cli("verify", "--deep")[0] == 0
