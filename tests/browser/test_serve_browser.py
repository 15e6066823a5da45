"""`eventscope serve` in a real browser: Debian's chromium, headless, driven by Playwright.

Two tabs open the app on one demo database; a deposit from the CLI shows in both tabs'
panels; `←` in one tab moves it into the past; SIGINT stops the server and every app
process it started. Where no browser is installed the test skips (with
EVENTSCOPE_REQUIRE_BROWSER=1, as in .ci/run, it fails instead).

The terminal is drawn on a canvas, so what a tab shows is read from the bytes the page
received on its websocket (the app's screen updates), escape sequences removed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_support import WAIT_S, alive, children, eventscope, free_port, start_server, stop

BROWSER_NAMES = ("chromium", "chromium-browser")
WAIT_MS = int(WAIT_S * 1000)

ESCAPES = re.compile(
    rb"\x1b(\[[0-9;?<=>]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[P^_][^\x1b]*\x1b\\|.)"
)


def _need(found: object, why: str) -> None:
    if found:
        return
    if os.environ.get("EVENTSCOPE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{why} (EVENTSCOPE_REQUIRE_BROWSER=1: the browser test must run)")
    pytest.skip(why)


@pytest.fixture
def chromium() -> str:
    """The system Chromium (checked before anything is started)."""
    path = next(filter(None, map(shutil.which, BROWSER_NAMES)), None)
    _need(path, "no Chromium: apt-get install chromium (the browser test drives it headless)")
    assert path is not None
    return path


class Screen:
    """What one tab was sent: its websocket's bytes, escape sequences removed."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.data = bytearray()
        page.on("websocket", self._watch)

    def _watch(self, websocket: Any) -> None:
        websocket.on("framereceived", self._received)

    def _received(self, payload: bytes | str) -> None:
        self.data += payload if isinstance(payload, bytes) else payload.encode()

    def text(self, since: int = 0) -> str:
        return ESCAPES.sub(b"", bytes(self.data[since:])).decode("utf-8", "replace")

    def wait_for(self, pattern: str, since: int = 0) -> None:
        """Wait until the tab was sent text matching `pattern` (after byte `since`)."""
        for _ in range(WAIT_MS // 100):
            if re.search(pattern, self.text(since)):
                return
            self.page.wait_for_timeout(100)
        raise AssertionError(f"the tab never showed {pattern!r}; it shows: {self.text()[-400:]!r}")


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    db = tmp_path / "demo.db"
    subprocess.run(
        eventscope("--db", str(db), "demo", "--events", "300", "--no-open"),
        check=True,
        capture_output=True,
    )
    return db


@pytest.fixture
def server(demo_db: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    _need(sys.platform == "linux", "the browser test counts processes in /proc (Linux)")
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        _need(False, "textual-serve is not installed: pip install 'eventscope[serve]'")
    port = free_port()
    process = start_server(demo_db, port, tmp_path / "serve.log", "--actor", "trainer")
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.mark.slow
def test_serve_two_tabs_in_chromium_live_then_past_then_ctrl_c(
    chromium: str, server: tuple[subprocess.Popen[bytes], str], demo_db: Path, tmp_path: Path
) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed: pip install -e '.[test]'")
    process, url = server

    with sync_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses root else
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            tabs = [Screen(browser.new_page(viewport={"width": 1400, "height": 900})) for _ in "ab"]
            for tab in tabs:
                tab.page.goto(url, timeout=WAIT_MS)
                tab.wait_for(r"LIVE")
                tab.wait_for(r"8,533\.47")  # eur-00011's balance in the Balances panel
            assert len(children(process.pid)) == 2, "one app process per tab"

            # A deposit from another process reaches both tabs' panels.
            marks = [len(tab.data) for tab in tabs]
            subprocess.run(
                eventscope(
                    "--db", str(demo_db), "exec", "deposit", "account_id=eur-00011", "amount=1.00"
                ),
                check=True,
                capture_output=True,
            )
            for tab, mark in zip(tabs, marks, strict=True):
                tab.wait_for(r"8,534\.47", since=mark)

            # ← in the first tab: the header says AT #…; the other tab stays live.
            first = tabs[0]
            mark = len(first.data)
            first.page.locator("textarea").first.focus()
            first.page.keyboard.press("ArrowLeft")
            first.wait_for(r"AT #300", since=mark)
            first.page.screenshot(path=tmp_path / "serve-past.png")
            tabs[1].page.screenshot(path=tmp_path / "serve-live.png")
            assert (tmp_path / "serve-past.png").stat().st_size > 0

            # Ctrl-C with both tabs still open: the server and both apps end.
            apps = children(process.pid)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=WAIT_S) == 0
            left = {pid for pid in apps if alive(pid)}
            assert not left, f"app processes left running after SIGINT: {left}"
        finally:
            browser.close()
