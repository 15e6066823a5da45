"""What the PostgreSQL store promises beyond the role contracts: the server itself
refuses writes in read-only mode and changes to the audit tables, one clear line (exit
2, nothing changed) for every bad --db, and followers woken by other writers."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from cli_support import CliResult
from postgres_server import PostgresServer

from domain.envelope import Metadata, NewEvent, StreamAppend
from domain.errors import InvalidInput, StoreError
from store.postgres import connect as pg_connect
from store.postgres.store import PostgresEventStore
from store.postgres.url import check_url
from tui.cli import main


def _append(store: PostgresEventStore, stream: str = "account-a", n: int = 1) -> None:
    version = store.stream_version(stream)
    events = tuple(
        NewEvent("Deposited", {"amount": i}, event_id=f"{stream}-{version}-{i}") for i in range(n)
    )
    store.append(
        [StreamAppend(stream, "account", version, events)],
        Metadata(actor="alice", command_id=f"c-{stream}-{version}", command_type="deposit"),
    )


def _run(*args: str, capsys: pytest.CaptureFixture[str]) -> CliResult:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


# -- read-only: the server refuses --------------------------------------------------------


def test_read_only_sessions_are_refused_by_the_server_itself(postgres_url: str) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    store = PostgresEventStore(postgres_url, read_only=True)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            store._pg.execute("INSERT INTO bookmarks (name, position) VALUES ('x', 0)")
        with pytest.raises(StoreError, match="read-only"):
            store.set_bookmark("x", 0, actor="alice")
        assert store.head().position == 0
    finally:
        store.close()


def test_the_audit_tables_refuse_update_delete_and_truncate(postgres_url: str) -> None:
    store = PostgresEventStore(postgres_url, create=True)
    _append(store)
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for sql in (
            "UPDATE events SET data = '{}'",
            "DELETE FROM events",
            "TRUNCATE events",
            "DELETE FROM commands",
            "UPDATE refusals SET reason = ''",
        ):
            with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                conn.execute(sql)
    store = PostgresEventStore(postgres_url)
    assert store.verify().ok and store.head().position == 1
    store.close()


# -- bad --db values: one line, exit 2, nothing changed -------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u@127.0.0.1:5432/db?sslmod=require", "unknown URL parameter sslmod"),
        ("postgresql://u@127.0.0.1:5432/db?options=-c%20x%3D1", "unknown URL parameter options"),
        ("postgresql://u@127.0.0.1:5432/", "name the database"),
        ("postgresql://u@127.0.0.1:99999/db", "not a valid URL"),
    ],
)
def test_a_malformed_url_is_named_before_connecting(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_url(url)


def test_an_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _run("--db", f"postgresql://u@127.0.0.1:{port}/db", "log", capsys=capsys)
    assert result.code == 2
    assert "cannot reach the server" in result.err and "is it running?" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_wrong_credentials_and_a_missing_database_are_named(
    postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = postgres_server.url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE ROLE checker LOGIN PASSWORD 'right'")
    # The throwaway server trusts everyone; make this one role prove its password.
    hba = postgres_server.data_dir / "pg_hba.conf"
    hba.write_text("host all checker 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")
    base = f"127.0.0.1:{postgres_server.port}"
    wrong = _run("--db", f"postgresql://checker:wrong@{base}/postgres", "log", capsys=capsys)
    assert wrong.code == 2 and "wrong user name or password" in wrong.err
    assert "wrong@" not in wrong.err  # the password is never echoed
    nobody = _run("--db", f"postgresql://nobody@{base}/postgres", "log", capsys=capsys)
    assert nobody.code == 2 and "nobody" in nobody.err and "check the user name" in nobody.err
    missing = _run(
        "--db", f"postgresql://{postgres_server.user}@{base}/nothere", "log", capsys=capsys
    )
    assert missing.code == 2 and "nothere" in missing.err and "create it first" in missing.err
    for result in (wrong, nobody, missing):
        assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_a_database_of_another_application_is_refused_and_left_alone(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int)")
    for command in (["init"], ["log"]):
        result = _run("--db", postgres_url, *command, capsys=capsys)
        assert result.code == 2
        assert "not an eventscope store" in result.err
    assert _tables(postgres_url) == ["orders"]


def test_a_newer_schema_is_refused_and_left_alone(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO eventscope_schema (number, name) VALUES (99, 'future')")
    before = _tables(postgres_url)
    result = _run("--db", postgres_url, "log", capsys=capsys)
    assert result.code == 2 and "newer eventscope (schema 99" in result.err
    assert _tables(postgres_url) == before


def test_an_empty_database_needs_init(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _run("--db", postgres_url, "log", capsys=capsys)
    assert result.code == 2 and "eventscope init" in result.err
    assert _tables(postgres_url) == []


def test_a_server_older_than_supported_is_refused(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No old server here: pretend the oldest supported one is newer than this one.
    monkeypatch.setattr(pg_connect, "OLDEST_SERVER", 990000)
    result = _run("--db", postgres_url, "init", capsys=capsys)
    assert result.code == 2 and "older than the oldest supported, 99.0" in result.err
    assert _tables(postgres_url) == []


def test_a_connection_lost_mid_append_records_nothing(postgres_url: str) -> None:
    store = PostgresEventStore(postgres_url, create=True)
    # The client path (a keyed chain's); the server-side call is cut mid-append in
    # test_postgres_connection_lost.py.
    store.server_append = False
    _append(store)
    killer = psycopg.connect(postgres_url, autocommit=True)
    pid = store._pg.info.backend_pid
    real_write_rows = store._write_rows

    def dying(conn: psycopg.Connection, *args: object, **kwargs: object) -> None:
        real_write_rows(conn, *args, **kwargs)  # type: ignore[arg-type]
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))

    store._write_rows = dying  # type: ignore[method-assign]
    with pytest.raises(StoreError, match="connection to the server was lost"):
        _append(store)
    store.close()
    killer.close()
    reopened = PostgresEventStore(postgres_url)
    assert reopened.head().position == 1 and reopened.verify().ok
    assert reopened.find_command("c-account-a-1") is None
    reopened.close()


# -- followers -------------------------------------------------------------------------------


def test_a_follower_is_woken_by_another_writer(postgres_url: str) -> None:
    follower = PostgresEventStore(postgres_url, create=True)
    writer = PostgresEventStore(postgres_url)
    seen = follower.data_version()
    follower.wait_for_change(seen, 0.01)  # starts listening
    woke: list[int] = []

    def follow() -> None:
        woke.append(follower.wait_for_change(seen, 60))

    thread = threading.Thread(target=follow)
    thread.start()
    time.sleep(0.2)
    _append(writer)
    thread.join(60)
    assert woke and woke[0] != seen
    assert follower.head().position == 1
    follower.close()
    writer.close()


def test_verify_fails_when_a_trigger_was_disabled_behind_its_back(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("--db", postgres_url, "init", capsys=capsys).code == 0
    assert _run("--db", postgres_url, "verify", capsys=capsys).code == 0
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    result = _run("--db", postgres_url, "verify", capsys=capsys)
    assert result.code == 1
    assert "trigger events_append_only on events is disabled" in result.err
