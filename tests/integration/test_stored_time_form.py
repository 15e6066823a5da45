"""The stored time form is ASCII digits only: another script's digits are refused.

`recorded_at` must read `2026-01-31T09:00:00.000000Z`, the one form that sorts as it
reads (`position_at` and `state --at-time` search it as text). `\\d` in the form's pattern
took any script's decimal digits: `٢٠٢٦-…` (Arabic-Indic) passed the shape check and the
chain (which hashes whatever text it is given), reads as 2026 to `int`, and sorts after
every ASCII time. An import carrying one is now refused at its line, chain intact or not.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import orjson
from cli_support import Cli
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.envelope import GENESIS_HASH
from store.hashchain import is_stored_time
from store.hashchain.rows import canonical_row, digest_function
from store.sqlite import SqliteEventStore

VALID = "2026-01-31T09:00:00.000000Z"

OTHER_DIGITS = [
    c
    for c in map(chr, range(128, sys.maxunicode + 1))
    if unicodedata.category(c) == "Nd" and unicodedata.decimal(c, None) is not None
]


@settings(max_examples=200, deadline=None)
@given(
    at=st.sampled_from([i for i, c in enumerate(VALID) if c.isdigit()]),
    digit=st.sampled_from(OTHER_DIGITS),
)
def test_a_time_with_another_scripts_digit_is_not_the_stored_form(at: int, digit: str) -> None:
    assert is_stored_time(VALID)
    assert not is_stored_time(VALID[:at] + digit + VALID[at + 1 :])


def _rechained(lines: list[bytes]) -> list[bytes]:
    """The export's events with their hashes recomputed as the chain does (no check)."""
    digest, prev, out = digest_function(None), GENESIS_HASH, []
    for line in lines:
        value = orjson.loads(line)
        if "record" not in value:
            row = (
                value["position"], value["event_id"], value["stream_id"], value["stream_type"],
                value["version"], value["type"], value["schema_version"], value["recorded_at"],
                orjson.dumps(value["data"], option=orjson.OPT_SORT_KEYS).decode(),
                orjson.dumps(value["metadata"], option=orjson.OPT_SORT_KEYS).decode(),
            )  # fmt: skip
            value["prev_hash"] = prev
            value["hash"] = prev = digest(prev.encode() + canonical_row(row))
        out.append(orjson.dumps(value))
    return out


def test_an_import_with_arabic_indic_digits_in_a_time_is_refused_at_its_line(
    cli: Cli, tmp_path: Path
) -> None:
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    assert cli("demo", "--events", "60", "--no-open", db_path=source).code == 0
    dump = tmp_path / "a.jsonl"
    assert cli("export", str(dump), db_path=source).code == 0
    lines = dump.read_bytes().splitlines()
    assert cli("import", str(dump), db_path=tmp_path / "same.db").code == 0  # as it was
    at = next(i for i, line in enumerate(lines) if b'"position":40,' in line)
    value = orjson.loads(lines[at])
    arabic = value["recorded_at"].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    value["recorded_at"] = arabic
    lines[at] = orjson.dumps(value)
    dump.write_bytes(b"\n".join(_rechained(lines)) + b"\n")
    r = cli("import", str(dump), db_path=target)
    assert r.code == 2
    assert f"line {at + 1}: recorded_at must look like 2026-01-31T09:00:00.000000Z" in r.err
    assert not target.exists()


def test_verify_names_a_stored_time_in_another_scripts_digits(cli: Cli, tmp_path: Path) -> None:
    """A row chained as written but with such a time (an import before the fix, or a
    row written past eventscope) fails `verify` at its position."""
    import sqlite3

    db = tmp_path / "a.db"
    assert cli("demo", "--events", "60", "--no-open", db_path=db).code == 0
    with SqliteEventStore.open(db) as store:
        head = store.head()
        last = next(iter(store.iter_chain_rows(after=head.position - 1)))
    moment = last[7].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    row = (head.position + 1, "e-arabic", last[2], last[3], last[4] + 1, last[5], last[6],
           moment, last[8], last[9])  # fmt: skip
    digest = digest_function(None)(head.hash.encode() + canonical_row(row))
    with sqlite3.connect(db) as conn:  # inserts are not refused by the triggers
        columns = "position, event_id, stream_id, stream_type, version, type, " + (
            "schema_version, recorded_at, data, metadata, prev_hash, hash"
        )
        conn.execute(f"INSERT INTO events ({columns}) VALUES ({', '.join('?' * 12)})",
                     (*row, head.hash, digest))  # fmt: skip
    r = cli("verify", db_path=db)
    assert r.code == 1
    assert f"{head.position + 1}" in r.out + r.err
    assert "recorded_at is not in the stored form" in r.out + r.err
