"""Tampering, as an attacker with the `sqlite3` shell (and a script) would do it.

Each `Tamper` edits a copy of a small ledger (or inventory) after dropping the append-only triggers,
and says what `eventscope verify --json` must report for a plain SHA-256 chain and
for an HMAC-keyed one: the first bad position and the problem, or that the chain
still verifies (`HIDDEN`), in which case a head kept elsewhere (`verify --anchor`) is
what catches it, or nothing does (a documented limit). Shared by
`test_reliability_tamper.py` and `bench/reliability/run.py`.

The attacker's re-hashing uses hashlib and the documented row format, never
eventscope's own code, and without the key (which the attacker does not have).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from reliability_support import WORKLOADS, run_cli

from domain.bus import CommandBus
from domain.clock import SequentialIds
from store.sqlite import SqliteEventStore

KEY = b"the auditor's HMAC key"
PLAIN, KEYED = "sha256", "hmac-sha256"
MODES = (PLAIN, KEYED)
DOMAINS = ("ledger", "inventory")
MIDDLE = 6
"""A deposit (a receipt) in the middle of the template (a row with an amount to edit)."""
SWAPPED = 14
"""A transfer half (a stock location opened), swapped with MIDDLE."""
KEPT = 14
"""Where the truncation cuts the chain."""
EVENTS = 18
"""Events in the template: 6 accounts opened and funded, then 3 transfers (3 SKUs
registered and stocked at 2 warehouses, then a move and a shipment)."""
HIDDEN = None
"""`verify` still passes: the chain alone cannot tell."""
_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, type, schema_version, "
    "recorded_at, data, metadata"
)
_ALL_BUT_POSITION = (
    "event_id, stream_id, stream_type, version, type, schema_version, data, metadata, "
    "recorded_at, prev_hash, hash"
)


@dataclass(frozen=True)
class Vocabulary:
    """What the attacker writes into one domain's events."""

    amount: str
    """The data field an edit inflates."""
    other_type: str
    """An event type of the domain to relabel MIDDLE with."""
    forged_type: str
    forged_stream: str
    forged_key: str
    """The data field naming the forged stream's entity."""
    forged_id: str


VOCABULARIES: dict[str, Vocabulary] = {
    "ledger": Vocabulary(
        "amount", "MoneyWithdrawn", "MoneyDeposited", "account-mallory", "account_id", "mallory"
    ),
    "inventory": Vocabulary(
        "quantity", "StockShipped", "StockReceived", "stock-MALLORY@ams", "sku", "MALLORY"
    ),
}


@dataclass(frozen=True)
class Found:
    """`verify` fails, naming `position` first, with `problem` in its message."""

    position: int
    problem: str


@dataclass(frozen=True)
class Tamper:
    """One way to change history, and what each kind of chain reports about it."""

    name: str
    edit: Callable[[Path, Vocabulary], None]
    plain: Found | None
    keyed: Found | None
    anchor: str | None
    """What `verify --anchor` (a head kept before the edit) says when `verify` alone
    passes; None when even the anchor cannot tell (a documented limit)."""

    def expected(self, mode: str) -> Found | None:
        return self.keyed if mode == KEYED else self.plain


_TEMPLATE_COMMANDS: dict[str, list[tuple[str, dict[str, object]]]] = {
    "ledger": [
        ("transfer", {"from_account": source, "to_account": target, "amount": "7"})
        for source, target in (("e1", "e2"), ("e3", "e4"), ("y1", "y2"))
    ],
    "inventory": [
        (
            "move_stock",
            {"sku": "BOLT-M8", "from_warehouse": "ams", "to_warehouse": "rtm", "quantity": 7},
        ),
        ("ship_stock", {"sku": "NUT-M8", "warehouse": "rtm", "quantity": 7, "order_ref": "SO-7"}),
    ],
}


def build_template(path: Path, mode: str, domain: str = "ledger") -> Path:
    """The history every case edits: 18 events, chained with the key in KEYED mode."""
    key = KEY if mode == KEYED else None
    workload = WORKLOADS[domain]
    workload.create(path, key=key, synchronous="OFF")
    with SqliteEventStore(path, key=key, synchronous="OFF") as store:
        bus = CommandBus(store, workload.model, ids=SequentialIds("tamper"))
        for kind, fields in _TEMPLATE_COMMANDS[domain]:
            bus.execute_fields(kind, fields, actor="clerk")
        assert store.head().position == EVENTS
    return path


def key_options(mode: str, work: Path) -> list[str]:
    """The CLI options that give the key (none for a plain chain)."""
    if mode != KEYED:
        return []
    key_file = work / "auditor.key"
    key_file.write_bytes(KEY)
    key_file.chmod(0o600)  # as an auditor keeps it (else eventscope warns, as ssh does)
    return ["--key-file", str(key_file)]


# -- the attacker's tools -----------------------------------------------------------------


def run_sql(db: Path, script: str) -> None:
    """Run SQL with the sqlite3 shell (an auditor's or attacker's tool), else the module."""
    shell = shutil.which("sqlite3")
    if shell is not None:
        done = subprocess.run(
            [shell, "-bail", str(db)], input=script, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and not done.stderr, done.stderr
        return
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.executescript(script)
    finally:
        conn.close()


def unprotected(db: Path, script: str) -> None:
    """`script` after dropping the append-only triggers (and the unique indexes it needs)."""
    run_sql(
        db,
        "DROP TRIGGER IF EXISTS events_no_update;\nDROP TRIGGER IF EXISTS events_no_delete;\n"
        + script,
    )


def restore_triggers(db: Path, triggers: list[tuple[str, str]]) -> None:
    """Put the append-only triggers back exactly as they were before the edit: `verify`
    reports a missing or altered one, so a careful attacker restores them."""
    run_sql(
        db,
        "".join(f"DROP TRIGGER IF EXISTS {name};\n{sql};\n" for name, sql in triggers),
    )


def trigger_sql(db: Path) -> list[tuple[str, str]]:
    """(name, SQL) of every trigger, as `sqlite_master` keeps them."""
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()


def attacker_rehash(db: Path, start: int) -> None:
    """Recompute prev_hash and hash from `start` on with plain SHA-256 (no key)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        found = conn.execute("SELECT hash FROM events WHERE position = ?", (start - 1,)).fetchone()
        prev = found[0] if found else "0" * 64
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM events WHERE position >= ? ORDER BY position", (start,)
        ).fetchall()
        conn.execute("BEGIN")
        for row in rows:
            digest = hashlib.sha256(prev.encode() + orjson.dumps(list(row))).hexdigest()
            conn.execute(
                "UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?",
                (prev, digest, row[0]),
            )
            prev = digest
        conn.execute("COMMIT")
    finally:
        conn.close()


def _edit_data(db: Path, words: Vocabulary) -> None:
    unprotected(
        db,
        f"UPDATE events SET data = json_set(data, '$.{words.amount}', 99999) "
        f"WHERE position = {MIDDLE};",
    )


def _edit_metadata(db: Path, words: Vocabulary) -> None:
    unprotected(
        db,
        "UPDATE events SET metadata = json_set(metadata, '$.actor', 'mallory') "
        f"WHERE position = {MIDDLE};",
    )


def _edit_time(db: Path, words: Vocabulary) -> None:
    unprotected(
        db,
        "UPDATE events SET recorded_at = '2020' || substr(recorded_at, 5) "
        f"WHERE position = {MIDDLE};",
    )


def _edit_type(db: Path, words: Vocabulary) -> None:
    unprotected(db, f"UPDATE events SET type = '{words.other_type}' WHERE position = {MIDDLE};")


def _edit_link(db: Path, words: Vocabulary) -> None:
    unprotected(db, f"UPDATE events SET prev_hash = printf('%064d', 1) WHERE position = {MIDDLE};")


def _delete_middle(db: Path, words: Vocabulary) -> None:
    unprotected(db, f"DELETE FROM events WHERE position = {MIDDLE};")


def _delete_first(db: Path, words: Vocabulary) -> None:
    unprotected(db, "DELETE FROM events WHERE position = 1;")


def _swap(db: Path, words: Vocabulary) -> None:
    assign = f"({_ALL_BUT_POSITION}) = (SELECT {_ALL_BUT_POSITION} FROM events WHERE position = "
    unprotected(
        db,
        "DROP INDEX events_event_id;\nDROP INDEX events_stream_version;\n"
        f"CREATE TEMP TABLE saved AS SELECT * FROM events WHERE position = {MIDDLE};\n"
        f"UPDATE events SET {assign}{SWAPPED}) WHERE position = {MIDDLE};\n"
        f"UPDATE events SET ({_ALL_BUT_POSITION}) = (SELECT {_ALL_BUT_POSITION} FROM saved) "
        f"WHERE position = {SWAPPED};",
    )


_FORGED_AT = MIDDLE + 1
_MAKE_ROOM = (
    f"UPDATE events SET position = position + 1000000 WHERE position > {MIDDLE};\n"
    f"UPDATE events SET position = position - 999999 WHERE position > 1000000;\n"
)


def _forged_row_sql(hash_sql: str, words: Vocabulary) -> str:
    """Insert a forged deposit (receipt) into a new stream at _FORGED_AT, chained to MIDDLE."""
    return (
        f"INSERT INTO events ({_COLUMNS}, prev_hash, hash) SELECT {_FORGED_AT}, 'forged-1', "
        f"'{words.forged_stream}', stream_type, 1, '{words.forged_type}', 1, recorded_at, "
        f"json_set(data, '$.{words.forged_key}', '{words.forged_id}'), metadata, hash, "
        f"{hash_sql} FROM events WHERE position = {MIDDLE};\n"
    )


def _forge_naive(db: Path, words: Vocabulary) -> None:
    unprotected(db, _MAKE_ROOM + _forged_row_sql("printf('%064d', 7)", words))


def _forge_with_sha256(db: Path, words: Vocabulary) -> None:
    unprotected(db, _MAKE_ROOM + _forged_row_sql("''", words))
    _rehash_one(db, _FORGED_AT)


def _rehash_one(db: Path, position: int) -> None:
    """Give the row at `position` its own correct plain SHA-256 hash (and nothing else)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        row = conn.execute(
            f"SELECT {_COLUMNS}, prev_hash FROM events WHERE position = ?", (position,)
        ).fetchone()
        digest = hashlib.sha256(row[10].encode() + orjson.dumps(list(row[:10]))).hexdigest()
        conn.execute("UPDATE events SET hash = ? WHERE position = ?", (digest, position))
    finally:
        conn.close()


def _rehash_from_edit(db: Path, words: Vocabulary) -> None:
    _edit_data(db, words)
    attacker_rehash(db, MIDDLE)


def _rehash_whole_chain(db: Path, words: Vocabulary) -> None:
    _edit_data(db, words)
    attacker_rehash(db, 1)


def _forge_append(db: Path, words: Vocabulary) -> None:
    unprotected(
        db,
        f"INSERT INTO events ({_COLUMNS}, prev_hash, hash) SELECT {EVENTS + 1}, 'forged-2', "
        "stream_id, stream_type, version + 1, type, schema_version, recorded_at, data, "
        f"metadata, hash, '' FROM events WHERE position = {EVENTS};",
    )
    attacker_rehash(db, EVENTS + 1)


def _truncate_tail(db: Path, words: Vocabulary) -> None:
    unprotected(db, f"DELETE FROM events WHERE position > {KEPT};")


_CHANGED = "hash does not match"
TAMPERS: tuple[Tamper, ...] = (
    Tamper("edit data", _edit_data, Found(MIDDLE, _CHANGED), Found(MIDDLE, _CHANGED), None),
    Tamper("edit metadata", _edit_metadata, Found(MIDDLE, _CHANGED), Found(MIDDLE, _CHANGED), None),
    # Times may go back (each event keeps its writer's clock): the hash catches an edit.
    Tamper("edit time", _edit_time, Found(MIDDLE, _CHANGED), Found(MIDDLE, _CHANGED), None),
    Tamper("edit type", _edit_type, Found(MIDDLE, _CHANGED), Found(MIDDLE, _CHANGED), None),
    Tamper(
        "edit prev_hash",
        _edit_link,
        Found(MIDDLE, "prev_hash does not link"),
        Found(MIDDLE, "prev_hash does not link"),
        None,
    ),
    Tamper(
        "delete middle",
        _delete_middle,
        Found(MIDDLE, f"position {MIDDLE} is missing"),
        Found(MIDDLE, f"position {MIDDLE} is missing"),
        None,
    ),
    Tamper(
        "delete first",
        _delete_first,
        Found(1, "position 1 is missing"),
        Found(1, "position 1 is missing"),
        None,
    ),
    Tamper("swap two events", _swap, Found(MIDDLE, ""), Found(MIDDLE, ""), None),
    Tamper(
        "insert forged event",
        _forge_naive,
        Found(_FORGED_AT, _CHANGED),
        Found(_FORGED_AT, _CHANGED),
        None,
    ),
    # Without a key the attacker can hash the forged row correctly, so the first bad
    # position is the next one, whose link no longer holds; with a key, the forgery.
    Tamper(
        "insert forged event, sha256-hashed",
        _forge_with_sha256,
        Found(_FORGED_AT + 1, "prev_hash does not link"),
        Found(_FORGED_AT, _CHANGED),
        None,
    ),
    Tamper(
        "edit, then re-hash from the edit",
        _rehash_from_edit,
        HIDDEN,
        Found(MIDDLE, _CHANGED),
        "rewritten",
    ),
    Tamper(
        "edit, then re-hash the whole chain",
        _rehash_whole_chain,
        HIDDEN,
        Found(1, _CHANGED),
        "rewritten",
    ),
    Tamper(
        "append a forged event, sha256-hashed",
        _forge_append,
        HIDDEN,
        Found(EVENTS + 1, _CHANGED),
        None,
    ),
    Tamper("truncate the tail", _truncate_tail, HIDDEN, HIDDEN, "removed from the tail"),
)


@dataclass(frozen=True)
class TamperOutcome:
    """What `verify --json` and `verify --anchor --json` said after one tamper."""

    code: int
    report: dict[str, object]
    anchor_code: int
    anchor_report: dict[str, object]


def run_tamper(
    tamper: Tamper, mode: str, template: Path, work: Path, domain: str = "ledger"
) -> TamperOutcome:
    """Copy `template` (a `domain` history), keep its head, tamper, and ask `verify`
    (plain and anchored).

    Asserts the outcome is what `tamper` expects for `mode`; returns it.
    """
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"{mode}.db"
    shutil.copyfile(template, db)
    keys = key_options(mode, work)
    kept = run_cli("--db", str(db), *keys, "--read-only", "verify", "--json")
    assert kept.code == 0, kept.err
    anchor = work / "head.json"
    anchor.write_text(kept.out)
    before = json.loads(kept.out)["head"]

    triggers = trigger_sql(db)
    tamper.edit(db, VOCABULARIES[domain])
    restore_triggers(db, triggers)

    r = run_cli("--db", str(db), *keys, "--read-only", "verify", "--json")
    report = json.loads(r.out)
    anchored = run_cli(
        "--db", str(db), *keys, "--read-only", "verify", "--anchor", str(anchor), "--json"
    )
    anchor_report = json.loads(anchored.out)
    expected = tamper.expected(mode)
    label = f"{tamper.name} ({domain}, {mode})"
    if expected is None:
        assert r.code == 0 and report["ok"] is True, f"{label}: {report}"
        if tamper.anchor is None:
            assert anchored.code == 0, f"{label}: the anchor was expected to pass"
        else:
            assert anchored.code == 1 and anchor_report["anchor"]["ok"] is False, label
            assert tamper.anchor in anchor_report["anchor"]["problem"], anchor_report
            assert anchor_report["anchor"]["anchor"] == before
    else:
        assert r.code == 1 and report["ok"] is False, f"{label}: {report}"
        assert report["first_bad_position"] == expected.position, f"{label}: {report}"
        assert expected.problem in str(report["problem"]), f"{label}: {report}"
        assert report["checked"] == expected.position - 1, f"{label}: {report}"
        assert report["head"]["position"] == expected.position - 1  # where trust ends
        assert anchored.code == 1, f"{label}: verify --anchor passed a broken chain"
    assert not r.err and not anchored.err, r.err + anchored.err  # --json: all on stdout
    return TamperOutcome(r.code, report, anchored.code, anchor_report)
