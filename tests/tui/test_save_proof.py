"""`p` saves the inclusion proof of the event under the cursor; it verifies offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_support import make_app, settle, wait_for

from store.proofs.bundle_check import check_bundle
from tui.bootstrap import Workspace


async def test_p_saves_a_proof_that_verifies_without_the_database(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = tmp_path / "here"  # the demo database lives in the test's own folder
    tmp_path.mkdir()
    monkeypatch.chdir(tmp_path)
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settle(pilot)
        screen.go(42)
        await settle(pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: (tmp_path / "proof-42.json").exists(), what="the bundle")
        await wait_for(pilot, lambda: bool(app._notifications), what="the notice")
        assert "proof-42.json" in " ".join(str(n.message) for n in app._notifications)
        await pilot.press("p")
        await wait_for(pilot, lambda: (tmp_path / "proof-42-2.json").exists(), what="a second")
    report = check_bundle((tmp_path / "proof-42.json").read_text())
    assert any("42" in line for line in report.lines)


async def test_p_before_the_first_event_says_why(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = tmp_path / "here"  # the demo database lives in the test's own folder
    tmp_path.mkdir()
    monkeypatch.chdir(tmp_path)
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settle(pilot)
        screen.go(0)
        await settle(pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: bool(app._notifications), what="the notice")
        assert "No proof saved" in " ".join(str(n.message) for n in app._notifications)
    assert list(tmp_path.iterdir()) == []


async def test_the_header_reports_the_latest_checkpoint(workspace: Workspace) -> None:
    from store.proofs import bundles
    from tui.widgets.status_bar import StatusBar

    head = workspace.store.head().position
    bundles.issue_checkpoint(
        workspace.proofs, head, origin="example.com/bank", signer=None, issued_at="now"
    )
    app = make_app(workspace)
    async with app.run_test(size=(200, 40)) as pilot:
        screen = await settle(pilot, timeout=15)
        bar = screen.query_one(StatusBar)
        await wait_for(pilot, lambda: bool(bar.view.checkpoint), timeout=15, what="the check")
        assert bar.view.checkpoint == f"checkpoint {head:,} ✓"
        assert "checkpoint" in str(bar.render())
