"""Untrusted text: whatever the store holds, `log`, `state`, `diff` and `verify` print it
escaped, and every way text enters refuses control, bidi and invisible characters.

The hostile history is written past the command checks (`hostile_support`), as an
attacker with write access to the file would. The CLI runs as a real process, so what
is checked is the bytes a terminal would receive.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from cli_support import head_of
from hostile_support import (
    FORGED_LINE,
    MARKUP,
    RAW,
    SHOWN,
    build_hostile_ledger,
    tamper_stream_id,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import run_cli, subprocess_env

from domain.envelope import Metadata, NewEvent, StreamAppend
from store.sqlite import SqliteEventStore

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def unsafe_in(text: str) -> list[str]:
    """Characters of `text` a terminal would act on or hide (newlines between lines aside)."""
    return [
        c for line in text.split("\n") for c in line if unicodedata.category(c) in UNSAFE_CATEGORIES
    ]


def eventscope(db: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The CLI as a process: raw bytes out, exactly what a terminal would be sent."""
    return subprocess.run(
        [sys.executable, "-m", "tui", "--db", str(db), *args],
        capture_output=True,
        env=subprocess_env(),
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("hostile") / "hostile.db"
    build_hostile_ledger(db)
    return db


@pytest.mark.parametrize("args", [["log"], ["state"], ["diff", "0", "5"]], ids=" ".join)
def test_stored_text_is_printed_escaped(hostile: Path, args: list[str]) -> None:
    done = eventscope(hostile, *args)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    assert unsafe_in(out) == []
    for raw in RAW:
        assert raw.encode() not in done.stdout.replace(b"\n", b"")
    assert SHOWN[0] in out  # OSC 52 and the screen clear, shown as text
    assert "mallory\\u202etxt.exe" in out
    if args[0] != "diff":  # (a diff of added rows names their keys, not the owner)
        assert MARKUP in out  # plain text has no markup: brackets print as they are


def test_a_newline_in_an_actor_cannot_forge_a_log_line(hostile: Path) -> None:
    lines = eventscope(hostile, "log").stdout.decode().splitlines()
    assert len(lines) == 5, "one line per event, whatever the actors hold"
    forged = FORGED_LINE.split("\n")[1].strip()
    assert [line for line in lines if line.lstrip().startswith(forged[:2] + "  ")] == []
    assert any("ann\\x0a" in line for line in lines)


def test_a_stream_id_from_a_tampered_row_cannot_paint_a_fake_verdict(
    hostile: Path, tmp_path: Path
) -> None:
    db = tmp_path / "tampered.db"
    shutil.copy(hostile, db)
    tamper_stream_id(db, 3)
    done = eventscope(db, "verify")
    assert done.returncode == 1
    err = done.stderr.decode()
    assert b"\r" not in done.stderr
    lines = err.splitlines()
    assert lines[0].startswith("chain broken at position 3: stream account-acc-2\\x0d chain ok")
    # One line per finding (the schema check follows); none of them is a forged verdict.
    assert [line.split(":")[0] for line in lines[1:]] == ["schema ok"]


def test_json_output_stays_json(hostile: Path) -> None:
    done = eventscope(hostile, "log", "--json")
    assert b"\x1b" not in done.stdout and b"\\u001b" in done.stdout


# -- entry: text with control, bidi or invisible characters is refused --------------------


BAD_TEXT = st.builds(
    lambda a, bad, b: a + bad + b,
    st.text(max_size=5),
    st.sampled_from(["\x1b", "\x07", "\n", "\r", "\u202e", "\u200b", "\u2066", "\x9b", "\ufeff"]),
    st.text(max_size=5),
)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("entry") / "entry.db"
    assert run_cli("--db", str(db), "init").code == 0
    opened = run_cli(
        "--db", str(db), "exec", "open_account", "account_id=a1", "owner=Ann", "currency=EUR"
    )
    assert opened.code == 0, opened.err
    return db


@settings(
    max_examples=60, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bad=BAD_TEXT, where=st.sampled_from(["actor", "command-id", "reference", "owner"]))
def test_unsafe_text_is_refused_where_it_enters_and_nothing_changes(
    ledger: Path, bad: str, where: str
) -> None:
    before = head_of(ledger)
    fields = ["deposit", "account_id=a1", "amount=1.00"]
    options: list[str] = []
    if where == "actor":
        options = ["--actor", bad]
    elif where == "command-id":
        fields.append(f"--command-id={bad}")
    elif where == "reference":
        fields.append(f"reference={bad}")
    else:
        fields = ["open_account", "account_id=b1", f"owner={bad}", "currency=EUR"]
    result = run_cli("--db", str(ledger), *options, "exec", *fields)
    assert result.code == 2, (result.out, result.err)
    assert result.err.count("\n") == 1
    assert "control, bidi or invisible characters" in result.err
    assert unsafe_in(result.err) == []
    assert head_of(ledger) == before


# -- output: whatever an actor or a reference holds, log and state stay clean -----------


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(actor=st.text(min_size=1, max_size=12), reference=st.text(max_size=12))
def test_any_stored_actor_or_text_prints_without_a_raw_control_character(
    tmp_path_factory: pytest.TempPathFactory, actor: str, reference: str
) -> None:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    with SqliteEventStore.init(db, domain="ledger", synchronous="OFF") as store:
        opened = {"account_id": "a1", "owner": reference, "currency": "EUR", "overdraft_limit": 0}
        store.append(
            [
                StreamAppend(
                    "account-a1", "account", 0, (NewEvent("AccountOpened", opened, 1, "e1"),)
                )
            ],
            Metadata(actor=actor, command_id="c1", command_type="open_account"),
        )
    for command in ("log", "state"):
        result = run_cli("--db", str(db), command)
        assert result.code == 0, result.err
        assert unsafe_in(result.out) == []
    assert run_cli("--db", str(db), "log").out.count("\n") == 1, "one event, one line"
