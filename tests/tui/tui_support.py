"""Helpers for the app's tests: a deterministic demo database and a settled app."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from domain.clock import SequentialIds, StepClock
from domain.ledger.demo import write_demo
from tui.app import EventscopeApp
from tui.bootstrap import Workspace, app_session, open_workspace
from tui.screens.main import MainScreen

DEMO_EVENTS = 600
DEMO_SEED = 7
TEST_CLOCK_START = "2026-06-01T09:00:00Z"


def load_demo(
    path: Path, events: int = DEMO_EVENTS, seed: int = DEMO_SEED, *, read_side: bool = True
) -> None:
    """Write the ledger's demo history into a new database through the bulk path.

    With `read_side`, also what `eventscope demo` writes after the events: snapshots
    and read models at the head.
    """
    created = open_workspace(path, create=True, domain="ledger")
    try:
        write_demo(created.store, events, seed)
    finally:
        created.close()
    if read_side:
        build_read_side(path)


def build_read_side(path: Path) -> None:
    """What `eventscope demo` writes after the events: snapshots and read models."""
    workspace = open_test_workspace(path)
    try:
        workspace.timeline.build_snapshots()
        with workspace.projector() as projector:
            projector.catch_up()
    finally:
        workspace.close()


def open_test_workspace(db: Path | str, *, read_only: bool = False, ids: str = "ui") -> Workspace:
    """The database (a path or a URL) with a fixed clock, fixed ids and a fixed actor."""
    return open_workspace(
        db,
        actor="tester",
        read_only=read_only,
        clock=StepClock(TEST_CLOCK_START),
        ids=SequentialIds(ids),
    )


def make_app(
    workspace: Workspace, *, watch: bool = True, verify: bool = True, project: bool = True
) -> EventscopeApp:
    """The app on `workspace`, with no blinking cursor (stable screenshots)."""
    return EventscopeApp(
        app_session(workspace, project=project), watch=watch, verify=verify, cursor_blink=False
    )


def main_screen(pilot: Pilot[None]) -> MainScreen:
    """The main screen, under any dialog."""
    app = pilot.app
    assert isinstance(app, EventscopeApp)
    return app.main


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 15.0, what: str = ""
) -> float:
    """Let the app run until `condition()` holds; returns how long it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await pilot.pause(0.01)
    return time.monotonic() - start


def is_settled(screen: MainScreen) -> bool:
    """True when the panels show the cursor and the background work is done."""
    frame = screen.frame
    status = screen.live_watch.read_status
    return (
        frame is not None
        and frame.position == screen.target
        and (screen.session.read_side is None or (status is not None and status.lag == 0))
        and not screen.frames.building
        and screen.live_watch.index.head == screen.head
        and screen.query_one("TimelineScrubber").axis is not None  # type: ignore[attr-defined]
        and screen.checks.chain.state != "checking"
        and screen.query_one("#status").view.derived.state != "checking"  # type: ignore[attr-defined]
        and screen.query_one("#log").loaded  # type: ignore[attr-defined]
        and screen.query_one("#inspector").settled  # type: ignore[attr-defined]
    )


async def settle(pilot: Pilot[None], timeout: float = 15.0) -> MainScreen:
    """Wait until the main screen shows the cursor's state with nothing pending."""
    screen = main_screen(pilot)
    await wait_for(pilot, lambda: is_settled(screen), timeout, "the app to settle")
    await pilot.pause(0.02)  # let the last paint happen (a bare pause waits for CPU idle)
    return screen


async def steady_log(pilot: Pilot[Any]) -> None:
    """Scroll the event log as a jump from the top would leave it: the cursor's row in view.

    Where the log was before depends on the heights it had when earlier moves scrolled
    it, so a snapshot would flip between two scroll offsets under load. (Its column
    widths need no such help: they never depend on the pages read so far.)
    """
    screen = main_screen(pilot)
    log = screen.query_one("#log")
    log.scroll_to(y=0, animate=False, immediate=True)
    log._scroll_to_row(log.index.index_at_or_before(log.selected))  # type: ignore[attr-defined]
    log.refresh()
    await pilot.pause(0.05)


async def screen_at_rest(pilot: Pilot[Any], looks: int = 3, timeout: float = 10.0) -> None:
    """Let the app run until `looks` screenshots in a row, 50 ms apart, are the same.

    Raises when the screen is still changing after `timeout` seconds (something animates
    that a snapshot cannot hold still).

    First every widget of the screen is laid out and drawn again: a scrollbar can keep
    the thumb of a scroll made before its table knew its size (a DataTable moves its
    cursor into view after its next refresh), and stay so until something repaints it.
    """
    for widget in pilot.app.screen.walk_children(with_self=True):
        widget.refresh(layout=True)
    await pilot.pause(0.05)
    start = time.monotonic()
    last = pilot.app.export_screenshot()
    same = 1
    while same < looks:
        if time.monotonic() - start > timeout:
            raise AssertionError(f"the screen kept changing for {timeout}s")
        await pilot.pause(0.05)
        now = pilot.app.export_screenshot()
        same = same + 1 if now == last else 1
        last = now


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Put `text` into the input matching `selector` on the active screen.

    Setting the value sends the same Changed message typing would, without a pilot
    round trip per character.
    """
    from textual.widgets import Input

    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    await pilot.pause(0.02)
