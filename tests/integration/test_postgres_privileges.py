"""`init --writer-role W --reader-role R` on PostgreSQL: the server itself refuses what
the roles may not do, even with eventscope's triggers dropped.

Real roles on the throwaway server: the writer appends, projects (its read models) and
keeps bookmarks, but an UPDATE, DELETE or TRUNCATE of the audit tables, or disabling
their triggers, is refused by the server's privileges; the reader reads everything
(with --read-only) and writes nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import psycopg
import pytest
from follow_support import following, until
from postgres_server import PostgresServer
from psycopg.errors import InsufficientPrivilege
from reliability_support import run_cli

from domain.envelope import Metadata, NewEvent, StreamAppend
from store.postgres.append_function import FUNCTIONS, append_on_server
from store.postgres.append_sql import APPEND_LOCK
from store.postgres.group_commit import QUEUE_TABLES, ROUTINES, append_shared
from store.postgres.schema import APPEND_ONLY_TABLES
from store.postgres.store import PostgresEventStore

_names = count()


def _as(url: str, role: str) -> str:
    """`url` connecting as `role` (the throwaway server trusts local connections)."""
    rest = url.split("@", 1)[1]
    return f"postgresql://{role}@{rest}"


@pytest.fixture
def roles(postgres_server: PostgresServer) -> Iterator[tuple[str, str, str, str]]:
    """A store set up by the owner with a writer and a reader role: (owner URL, writer
    URL, reader URL, writer role name)."""
    n = f"{os.getpid()}_{next(_names)}"
    writer, reader = f"books_writer_{n}", f"books_auditor_{n}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {writer} LOGIN")
        admin.execute(f"CREATE ROLE {reader} LOGIN")
    owner = postgres_server.database()
    assert run_cli("--db", owner, "init").code == 0
    assert (
        run_cli(
            "--db", owner, "exec", "open_account", "account_id=a1", "owner=Ann", "currency=EUR"
        ).code
        == 0
    )
    assert run_cli("--db", owner, "rebuild").code == 0  # read models the owner built
    done = run_cli("--db", owner, "init", "--writer-role", writer, "--reader-role", reader)
    assert done.code == 0, done
    assert f"granted {writer}: SELECT, INSERT on events" in done.out
    yield owner, _as(owner, writer), _as(owner, reader), writer


def test_the_writer_role_appends_projects_and_bookmarks(roles: tuple[str, str, str, str]) -> None:
    _, writer, _, _ = roles
    deposit = run_cli("--db", writer, "exec", "deposit", "account_id=a1", "amount=5.00")
    assert deposit.code == 0, deposit
    rebuilt = run_cli("--db", writer, "rebuild")  # drops and replaces the owner's tables
    assert rebuilt.code == 0, rebuilt
    with PostgresEventStore(writer) as store:
        store.set_bookmark("checked", 2, actor="ann")
        assert store.verify().ok
    assert run_cli("--db", writer, "verify").code == 0


def _one_append(store: PostgresEventStore, command_id: str) -> None:
    version = store.stream_version("probe")
    event = NewEvent("Probed", {"n": version}, event_id=f"probe-{command_id}")
    store.append(
        [StreamAppend("probe", "probe", version, (event,))],
        Metadata(actor="ann", command_id=command_id, command_type="probe"),
    )


def test_the_writer_role_appends_through_the_append_function_without_public_execute(
    roles: tuple[str, str, str, str],
) -> None:
    owner, writer, _, _ = roles
    with psycopg.connect(owner, autocommit=True) as conn:  # an administrator's hardening
        for function in FUNCTIONS + ROUTINES:
            conn.execute(f"REVOKE EXECUTE ON ROUTINE {function} FROM PUBLIC")
    with PostgresEventStore(writer) as store:
        before = store.head().position
        _one_append(store, "w-1")
        assert store.last_lock_grant is not None  # it went through eventscope_append
        assert store.head().position == before + 1 and store.verify().ok
        assert store.proofs.tree_size() == before + 1


@pytest.mark.parametrize(
    "call, held",
    [(append_on_server, False), (append_shared, False), (append_shared, True)],
    ids=["alone", "shared", "shared, queueing"],
)
@pytest.mark.parametrize("read_only", [False, True], ids=["reader", "reader read-only"])
def test_the_server_refuses_the_reader_role_calling_the_append_function(
    roles: tuple[str, str, str, str], read_only: bool, call: Callable[..., Any], held: bool
) -> None:
    """`held`: another session holds the append lock, so the shared append would queue
    (the reader may not write the queue either)."""
    owner, _, reader, _ = roles
    options = "-c default_transaction_read_only=on" if read_only else ""
    refusal: Any = psycopg.errors.ReadOnlySqlTransaction if read_only else InsufficientPrivilege
    if read_only and call is append_shared:  # refused its read of the queue, or a write
        refusal = (psycopg.errors.ReadOnlySqlTransaction, InsufficientPrivilege)
    event = NewEvent("Probed", {}, event_id="probe-r")
    append = StreamAppend("probe", "probe", 0, (event,))
    with (
        psycopg.connect(reader, autocommit=True, options=options) as conn,
        psycopg.connect(owner, autocommit=True) as holder,
        contextlib.ExitStack() as stack,
    ):
        if held:
            stack.enter_context(holder.transaction())
            holder.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
        before = conn.execute("SELECT count(*) FROM events").fetchone()
        with pytest.raises(refusal):  # the server's refusal, not eventscope's
            call(
                conn,
                [append],
                Metadata(actor="ann", command_id="r-1", command_type="probe"),
                [(append, event, "{}")],
                "{}",
                "2026-01-01T00:00:00.000000Z",
            )
        assert conn.execute("SELECT count(*) FROM events").fetchone() == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
        "DELETE FROM commands",
        "UPDATE refusals SET reason = 'x'",
        "TRUNCATE merkle_nodes",
        "ALTER TABLE events DISABLE TRIGGER USER",
        "DROP TRIGGER events_append_only ON events",
    ],
)
def test_the_server_refuses_the_writer_role_changing_history_even_without_triggers(
    roles: tuple[str, str, str, str], statement: str
) -> None:
    owner, writer, _, _ = roles
    with psycopg.connect(owner, autocommit=True) as conn:  # as if someone had dropped them
        for table in APPEND_ONLY_TABLES:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    with psycopg.connect(writer, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (1,)  # untouched


def test_the_reader_role_reads_everything_and_writes_nothing(
    roles: tuple[str, str, str, str],
) -> None:
    _, writer, reader, _ = roles
    assert run_cli("--db", writer, "exec", "deposit", "account_id=a1", "amount=5.00").code == 0
    assert run_cli("--db", writer, "rebuild").code == 0  # tables the writer now owns
    for command in (["log"], ["state"], ["verify"]):
        shown = run_cli("--db", reader, "--read-only", *command)
        assert shown.code == 0, (command, shown)
    with psycopg.connect(reader, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        assert any(t.startswith("rm_") for t in tables)
        for table in tables:
            if table in QUEUE_TABLES:  # the writers' shared-commit queue: writers only
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f'SELECT count(*) FROM "{table}"')
                continue
            conn.execute(f'SELECT count(*) FROM "{table}"')
        for statement in (
            "INSERT INTO bookmarks (name, position) VALUES ('x', 1)",
            "UPDATE changes SET version = 0",
            "DELETE FROM projector_lease",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_roles_are_refused_with_one_line_where_they_cannot_apply(
    postgres_url: str, tmp_path: Path
) -> None:
    db = tmp_path / "bank.db"
    on_file = run_cli("--db", str(db), "init", "--writer-role", "w")
    assert on_file.code == 2 and "are for PostgreSQL" in on_file.err
    assert not db.exists()
    unknown = run_cli("--db", postgres_url, "init", "--reader-role", "nobody_here")
    assert unknown.code == 2 and len(unknown.err.strip().splitlines()) == 1
    assert "no such role" in unknown.err
    odd = run_cli("--db", postgres_url, "init", "--writer-role", "x; DROP TABLE events")
    assert odd.code == 2 and "plain role name" in odd.err


# -- the CLI as a new user runs it, connected as each role (not as the superuser) --------


def _counts(owner: str) -> tuple[int, int, int]:
    """(events, refusals, commands rows), as the owner sees them."""
    with psycopg.connect(owner, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM refusals), "
            "(SELECT count(*) FROM commands)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_the_writer_role_runs_commands_and_is_refused_by_the_rules(
    roles: tuple[str, str, str, str],
) -> None:
    owner, writer, _, _ = roles
    opened = run_cli(
        "--db", writer, "exec", "open_account", "account_id=b2", "owner=Bo", "currency=EUR"
    )
    assert opened.code == 0, opened
    assert run_cli("--db", writer, "exec", "deposit", "account_id=b2", "amount=9.00").code == 0
    before = _counts(owner)
    refused = run_cli("--db", writer, "exec", "withdraw", "account_id=b2", "amount=100.00")
    assert refused.code == 1, refused  # refused by a rule, and the refusal is recorded
    assert len(refused.err.strip().splitlines()) == 1 and "refused" in refused.err
    assert _counts(owner) == (before[0], before[1] + 1, before[2])
    for command in (["log"], ["state", "--at", "2"], ["verify", "--deep"], ["commands"]):
        shown = run_cli("--db", writer, *command)
        assert shown.code == 0, (command, shown)


def test_project_follow_as_the_writer_role_keeps_the_read_models_up(
    roles: tuple[str, str, str, str],
) -> None:
    owner, writer, _, _ = roles
    with following(writer) as (_, statuses):
        until(statuses, "up to date")
        assert run_cli("--db", writer, "exec", "deposit", "account_id=a1", "amount=2.00").code == 0
        head = _counts(owner)[0]
        until(statuses, f"#{head} of {head} · up to date")
    shown = run_cli("--db", owner, "--read-only", "verify", "--deep")
    assert shown.code == 0 and f"read models at #{head}" in shown.out, shown


@pytest.mark.parametrize(
    "command",
    [
        ["exec", "deposit", "account_id=a1", "amount=1.00"],
        ["exec", "withdraw", "account_id=a1", "amount=1000.00"],  # a refusal is a write too
        ["project"],
        ["rebuild"],
    ],
)
def test_the_reader_role_is_refused_each_write_with_one_clear_line(
    roles: tuple[str, str, str, str], command: list[str]
) -> None:
    owner, _, reader, _ = roles
    before = _counts(owner)
    refused = run_cli("--db", reader, *command)
    assert refused.code == 2, refused
    line = refused.err.strip()
    assert len(line.splitlines()) == 1, line
    assert "Traceback" not in line
    role = reader.split("//", 1)[1].split("@", 1)[0]
    assert f"role {role} may not" in line and "--read-only" in line, line
    assert _counts(owner) == before


def test_the_reader_role_reads_everything_with_read_only(
    roles: tuple[str, str, str, str], tmp_path: Path
) -> None:
    _, _, reader, _ = roles
    for command in (
        ["log"],
        ["state", "--at", "1"],
        ["diff", "0", "1"],
        ["verify", "--deep"],
        ["blame", "account_balances", "a1", "balance"],
        ["export", str(tmp_path / "books.jsonl")],
    ):
        shown = run_cli("--db", reader, "--read-only", *command)
        assert shown.code == 0, (command, shown)
    assert (tmp_path / "books.jsonl").stat().st_size > 0
    writes = run_cli("--db", reader, "--read-only", "exec", "deposit", "account_id=a1", "amount=1")
    assert writes.code == 2 and len(writes.err.strip().splitlines()) == 1, writes
