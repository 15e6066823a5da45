"""`eventscope serve`, in-process: who may bind where, the per-tab command, the hints.

The server as a process (signals, tabs, a browser) is tested in tests/browser/.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import run_cli

from tui.cli.parser import build_parser
from tui.cli.serve import app_command, is_loopback

textual_serve = pytest.importorskip("textual_serve", reason="pip install 'eventscope[serve]'")


@pytest.fixture
def ledger(cli: Cli) -> None:
    assert cli("init").code == 0


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """`serve` runs its checks, then records the server instead of serving."""
    from tui.cli.web_server import AppServer

    servers: list[Any] = []
    monkeypatch.setattr(AppServer, "serve", lambda self, debug=False: servers.append(self))
    return servers


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.com"])
def test_a_host_other_than_loopback_needs_public(
    cli: Cli, ledger: None, served: list[Any], host: str
) -> None:
    result = cli("serve", "--host", host)
    assert result.code == 2 and not served
    assert result.err.count("\n") == 1 and "add --public" in result.err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2"])
def test_loopback_serves_without_public_and_without_warning(
    cli: Cli, ledger: None, served: list[Any], host: str
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed
    result = cli("serve", "--host", host, "--port", str(port))
    assert result.code == 0 and result.err == ""
    assert (served[0].host, served[0].port) == (host, port)


def test_public_serves_with_a_warning(cli: Cli, ledger: None, served: list[Any]) -> None:
    result = cli("serve", "--host", "0.0.0.0", "--public", "--public-url", "http://box:8000/")
    assert result.code == 0 and len(served) == 1
    assert result.err.count("\n") == 1
    assert "warning" in result.err and "no authentication" in result.err
    assert served[0].public_url == "http://box:8000"


def test_each_tab_runs_the_app_with_the_global_options(
    cli: Cli, served: list[Any], db: Path, tmp_path: Path
) -> None:
    key = tmp_path / "k"
    key.write_text("secret-key-0123456789")
    key.chmod(0o600)
    assert cli("--key-file", str(key), "init").code == 0
    result = cli("--key-file", str(key), "--theme", "light-contrast", "--read-only", "serve")
    assert result.code == 0, result.err
    argv = shlex.split(served[-1].command)
    assert argv[:4] == ["exec", sys.executable, "-m", "tui"]
    assert set(argv[4:]) == {
        f"--db={db.absolute()}",
        f"--key-file={key.absolute()}",
        "--theme=light-contrast",
        "--actor=tester",
        "--read-only",
    }


PARSER = build_parser()


@settings(deadline=None)  # timing is not the property; the machine may be loaded
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1))
def test_the_tab_command_quotes_any_path(name: str) -> None:
    args = PARSER.parse_args([f"--actor={name}", "serve"])
    db = Path("/data") / name.replace("/", "_")
    argv = shlex.split(app_command(args, db))
    assert argv[0] == "exec" and f"--db={db}" in argv
    child = PARSER.parse_args(argv[4:])  # the tab's app reads back the same values
    assert (child.db, child.actor) == (str(db), name)


def test_loopback_is_only_this_machine() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")
    assert not is_loopback("localhost.example.com")


def test_without_textual_serve_one_line_says_what_to_install(
    cli: Cli, ledger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tui.cli.web_server", None)  # as if not installed
    result = cli("serve")
    assert result.code == 2
    assert result.err.count("\n") == 1 and "pip install 'eventscope[serve]'" in result.err


def test_a_port_in_use_is_one_line(cli: Cli, ledger: None, served: list[Any]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.code == 2 and not served
    assert result.err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in result.err


def test_bad_theme_is_one_line(cli: Cli, ledger: None) -> None:
    result = cli("--theme", "solarized", "serve")
    assert result.code == 2 and result.err.count("\n") == 1 and "--theme" in result.err


def test_serving_postgresql_keeps_the_password_off_every_command_line_and_output(
    served: list[Any], postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSCOPE_DB", "restored-after-the-test")
    secret = "s3cret-pass"  # the throwaway server trusts local connections: any password
    url = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{secret}@")
    assert run_cli("--db", url, "init").code == 0
    opened = run_cli(
        "--db", url, "exec", "open_account", "account_id=a1", "owner=Ann", "currency=EUR"
    )
    assert opened.code == 0, opened
    result = run_cli("--db", url, "serve")
    assert result.code == 0, result.err
    server = served[-1]
    shown = [server.command, server.title, server.banner, result.out, result.err]
    assert not any(secret in text for text in shown), shown
    assert "postgresql://postgres:***@127.0.0.1" in server.banner  # named, password masked
    argv = shlex.split(server.command)
    assert argv[:4] == ["exec", sys.executable, "-m", "tui"]
    assert not any(arg.startswith("--db") for arg in argv)
    # Each tab's app finds the store in its environment, as textual-serve passes it on.
    tab = subprocess.run(
        [*argv[1:], "log", "--json"],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tab.returncode == 0, tab.stderr
    assert '"AccountOpened"' in tab.stdout and secret not in tab.stdout + tab.stderr


def test_serving_memory_is_refused_with_one_line(served: list[Any]) -> None:
    result = run_cli("--db", "memory:", "serve")
    assert result.code == 2 and not served and result.err.count("\n") == 1


def test_a_thread_that_ends_while_the_apps_are_listed_is_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`running_apps` reads /proc/self/task/*/children; a thread can end between the
    listing and the read (a crash at Ctrl-C in CI): that thread is skipped, not fatal."""
    from tui.cli import web_server

    task = tmp_path / "task"
    (task / "1").mkdir(parents=True)
    (task / "1" / "children").write_text("")
    real_path = web_server.Path

    def fake_path(text: str) -> Path:
        return task if text == "/proc/self/task" else real_path(text)

    ended = task / "2" / "children"  # listed, then gone before it is read
    monkeypatch.setattr(web_server, "Path", fake_path)
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter([task / "1" / "children", ended]))
    assert web_server.running_apps(["python", "-m", "tui"]) == []
