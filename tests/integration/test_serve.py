"""`eventscope serve` without a browser: who may bind where, the per-tab command, and
SIGINT/SIGTERM ending every app process (tabs opened by a plain websocket client).

The browser itself is driven in tests/browser/test_serve_browser.py.
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_serves_without_public_and_without_warning(
    cli: Cli, ledger: None, served: list[Any], host: str
) -> None:
    result = cli("serve", "--host", host, "--port", "8123")
    assert result.code == 0 and result.err == ""
    assert (served[0].host, served[0].port) == (host, 8123)


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


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1))
def test_the_tab_command_quotes_any_path(name: str) -> None:
    args = build_parser().parse_args([f"--actor={name}", "serve"])
    db = Path("/data") / name.replace("/", "_")
    argv = shlex.split(app_command(args, db))
    assert argv[0] == "exec" and f"--db={db}" in argv
    child = build_parser().parse_args(argv[4:])  # the tab's app reads back the same values
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


def test_bad_theme_is_one_line(cli: Cli, ledger: None) -> None:
    result = cli("--theme", "solarized", "serve")
    assert result.code == 2 and result.err.count("\n") == 1 and "--theme" in result.err


# -- the server as a process ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        found |= {int(child) for child in tasks.read_text().split()}
    return {child for child in found if _alive(child)}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def _open_tab(url: str) -> Any:
    """A browser tab as the server sees it: a websocket; the app process starts for it."""
    import aiohttp

    session = aiohttp.ClientSession()
    for _ in range(600):  # until the server listens
        try:
            socket_ = await session.ws_connect(f"{url}/ws?width=100&height=30")
            return session, socket_
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError("eventscope serve never listened")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="counts processes in /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_signal_stops_the_server_and_every_app(
    cli: Cli, ledger: None, db: Path, tmp_path: Path, signum: int
) -> None:
    port = _free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "tui", "--db", str(db), "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    tabs = []
    try:
        for _ in range(2):
            tabs.append(await _open_tab(f"http://127.0.0.1:{port}"))
            await tabs[-1][1].receive()  # the app has started: its first bytes arrive
        apps = _children(server.pid)
        assert len(apps) == 2, "one app process per tab"
        server.send_signal(signum)
        assert await asyncio.to_thread(server.wait, 60) == 0
        assert not {pid for pid in apps if _alive(pid)}, "an app outlived the server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for session, websocket in tabs:
            await websocket.close()
            await session.close()
