"""The app's background deep check: "read models ✓ at #N" only once it has compared them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tui_support import DEMO_EVENTS, make_app, open_test_workspace, settle

from tui.derived_check import DerivedCheck
from tui.widgets.status_bar import StatusBar

SIZE = (160, 36)


def _header(screen: Any) -> str:
    return str(screen.query_one(StatusBar).render())


async def test_the_header_shows_the_read_models_checked_at_their_checkpoint(
    demo_db: Path,
) -> None:
    workspace = open_test_workspace(demo_db)
    try:
        app = make_app(workspace)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            header = _header(screen)
            assert f"read models ✓ at #{DEMO_EVENTS}" in header
            assert "chain ✓" in header
    finally:
        workspace.close()


async def test_a_forged_read_model_row_shows_as_a_cross(demo_db: Path) -> None:
    with sqlite3.connect(demo_db) as conn:
        conn.execute(
            "UPDATE rm_account_balances SET row = json_set(row, '$.owner', 'Mallory') "
            "WHERE key = (SELECT min(key) FROM rm_account_balances)"
        )
    workspace = open_test_workspace(demo_db)
    try:
        app = make_app(workspace)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            header = _header(screen)
            assert "✗ read models: account_balances row" in header
            assert "read models ✓" not in header
            assert "chain ✓" in header  # the events themselves are intact
    finally:
        workspace.close()


async def test_without_the_background_checks_nothing_is_claimed(demo_db: Path) -> None:
    workspace = open_test_workspace(demo_db)
    try:
        app = make_app(workspace, verify=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            header = _header(screen)
            assert "read models: unchecked" in header
            assert "✓" not in header
    finally:
        workspace.close()


def test_a_large_history_is_checked_in_a_child_process(demo_db: Path) -> None:
    """The child's `verify --deep --json` says the same as the check in-process."""
    workspace = open_test_workspace(demo_db)
    try:
        in_process = DerivedCheck(workspace, child_events=10**9).run()
        in_child = DerivedCheck(workspace, child_events=0).run()
        assert in_process.state == in_child.state == "ok"
        assert in_process.position == in_child.position == DEMO_EVENTS
    finally:
        workspace.close()


def test_on_postgresql_the_child_finds_the_database_in_its_environment(
    postgres_url: str,
) -> None:
    """The child gets the URL (which may hold a password) in `EVENTSCOPE_DB`, never on
    its command line; it says what the check in-process says."""
    from tui.cli import main

    assert main(["--db", postgres_url, "demo", "--events", "300", "--no-open"]) == 0
    workspace = open_test_workspace(postgres_url)  # type: ignore[arg-type]
    try:
        args, env = workspace.child_database() or ([], {})
        assert args == [] and env == {"EVENTSCOPE_DB": postgres_url}
        in_process = DerivedCheck(workspace, child_events=10**9).run()
        in_child = DerivedCheck(workspace, child_events=0).run()
        assert in_process.state == in_child.state == "ok", (in_process, in_child)
        assert in_process.position == in_child.position == 300
    finally:
        workspace.close()
