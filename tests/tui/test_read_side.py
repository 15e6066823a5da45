"""The read side in the app: its projector, lag, failures, read-only mode, bookmarks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from tui_support import make_app, open_test_workspace, settle, wait_for

from tui.bootstrap import Workspace
from tui.screens.confirm import ConfirmScreen
from tui.widgets.scrubber import TimelineScrubber
from tui.widgets.status_bar import StatusBar

SIZE = (120, 36)


@pytest.fixture
def other_writer(demo_db: Path) -> Iterator[Workspace]:
    """A second connection to the same database, writing as another process would."""
    ws = open_test_workspace(demo_db)
    yield ws
    ws.close()


def _open(writer: Workspace, account_id: str) -> int:
    result = writer.bus.execute_fields(
        "open_account",
        {"account_id": account_id, "owner": "Second Writer", "currency": "EUR"},
        actor="other",
    )
    return result.positions[-1]


def _header(screen: Any) -> str:
    return str(screen.query_one(StatusBar).render())


def _checkpoint(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT position FROM projector_checkpoint").fetchone()
    return int(row[0]) if row else 0


async def test_a_second_writer_reaches_the_panels_through_the_projector(
    workspace: Workspace, other_writer: Workspace
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.frame is not None and screen.frame.source == "read_models"
        position = _open(other_writer, "zz-second-1")
        await wait_for(
            pilot,
            lambda: screen.frame is not None and screen.frame.position == position,
            what="the second writer's event in the panels",
        )
        frame = screen.frame
        assert frame.source == "read_models" and screen.live
        assert "zz-second-1" in frame.rows["account_balances"]
        assert "zz-second-1" in frame.changes_for("account_balances").added
        # What the panels show is what the projector persisted.
        assert (
            screen.live_watch.read_status is not None
            and screen.live_watch.read_status.checkpoint == position
        )
        assert _checkpoint(workspace.db_path) == position
        with other_writer.projector() as reader:
            persisted = reader.read_models().states["account_balances"].rows
        assert frame.rows["account_balances"] == persisted


async def test_lag_is_shown_while_another_projector_holds_the_lease(
    workspace: Workspace, other_writer: Workspace
) -> None:
    # A follower looks at the lease again when the holder's lease (as it last saw it)
    # runs out, so a short one keeps the test short.
    holder = other_writer.projector(lease_seconds=3.0)
    holder.catch_up()  # takes the lease: the app's projector can only follow
    try:
        app = make_app(workspace)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            assert (
                screen.live_watch.read_status is not None
                and screen.live_watch.read_status.role == "follower"
            )
            shown = screen.frame.position  # type: ignore[union-attr]
            for n in range(3):
                _open(other_writer, f"zz-lag-{n}")
            await wait_for(
                pilot, lambda: "catching up: 3 behind" in _header(screen), what="the lag"
            )
            assert screen.frame is not None and screen.frame.position == shown
            holder.close()  # gives the lease up: the app's projector takes over
            await wait_for(
                pilot,
                lambda: screen.frame is not None and screen.frame.position == shown + 3,
                timeout=8.0,
                what="the app's projector to take over",
            )
            assert screen.live_watch.read_status.role == "leader"
            assert "catching up" not in _header(screen)
    finally:
        holder.close()


async def test_a_failing_projection_is_named_in_the_header(
    workspace: Workspace, other_writer: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    projection = workspace.domain.projection("account_balances")
    apply = type(projection).apply

    def failing(self: Any, state: Any, event: Any) -> Any:
        if event.data.get("owner") == "Broken Owner":
            raise ValueError("cannot fold this one")
        return apply(self, state, event)

    monkeypatch.setattr(type(projection), "apply", failing)
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        before = screen.frame.position  # type: ignore[union-attr]
        result = other_writer.bus.execute_fields(
            "open_account",
            {"account_id": "zz-broken", "owner": "Broken Owner", "currency": "EUR"},
            actor="other",
        )
        bad = result.positions[0]
        await wait_for(pilot, lambda: " failed at #" in _header(screen), what="the error")
        header = _header(screen)
        assert f"account_balances failed at #{bad} (AccountOpened)" in header
        assert screen.frame is not None and screen.frame.position == before
        assert _checkpoint(workspace.db_path) == bad - 1


async def test_read_only_runs_no_projector_and_writes_nothing(
    demo_db: Path, other_writer: Workspace
) -> None:
    before = _checkpoint(demo_db)
    workspace = open_test_workspace(demo_db, read_only=True)
    try:
        app = make_app(workspace)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            assert screen.session.read_side is None
            position = _open(other_writer, "zz-read-only")
            await wait_for(
                pilot,
                lambda: screen.frame is not None and screen.frame.position == position,
                what="the other writer's event",
            )
            assert screen.frame.source == "timeline"  # replayed, not read models
            assert "zz-read-only" in screen.frame.rows["account_balances"]
    finally:
        workspace.close()
    assert _checkpoint(demo_db) == before
    with sqlite3.connect(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM projector_lease").fetchone()[0] == 0


async def test_a_bookmark_survives_reopening(demo_db: Path) -> None:
    first = open_test_workspace(demo_db)
    try:
        async with make_app(first).run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            await pilot.press("home")
            screen.go(123)
            await settle(pilot)
            await pilot.press("b")
            await wait_for(pilot, lambda: pilot.app.screen.query("#bookmark-name").first())
            pilot.app.screen.query_one("#bookmark-name").value = "audit start"  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_for(pilot, lambda: bool(screen.bookmarks), what="the bookmark")
    finally:
        first.close()
    second = open_test_workspace(demo_db)
    try:
        app = make_app(second)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            await wait_for(pilot, lambda: bool(screen.bookmarks), what="the kept bookmark")
            assert [(b.name, b.position, b.actor) for b in screen.bookmarks] == [
                ("audit start", 123, "tester")
            ]
            assert [b.position for b in screen.query_one(TimelineScrubber).bookmarks] == [123]
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"audit")
            await pilot.pause(0.3)
            await pilot.press("enter")
            screen = await settle(pilot)
            assert screen.target == 123 and not screen.live
            screen.forget_bookmark("audit start")  # asks first
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await wait_for(pilot, lambda: bool(app.screen.query("#answer-forget")))
            await pilot.click("#answer-forget")
            await wait_for(pilot, lambda: not screen.bookmarks, what="the bookmark to go")
            assert second.store.bookmarks() == []
    finally:
        second.close()


async def test_the_app_opens_on_the_present_read_before_it_starts(workspace: Workspace) -> None:
    from tui.app import open_app

    app = open_app(workspace, verify=False)
    assert app.first_frame is not None and app.first_frame.source == "read_models"
    app.cursor_blink = False
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.frame is not None
        assert screen.frame.position == workspace.store.head().position and screen.live
