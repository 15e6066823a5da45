"""The inspector says whether the event is in the latest checkpoint issued."""

from __future__ import annotations

from tui_support import make_app, settle

from store.proofs.bundles import issue_checkpoint
from tui.bootstrap import Workspace
from tui.proof_status import CheckedHashStatus
from tui.widgets.inspector import EventInspector

SIZE = (120, 36)


async def _status(workspace: Workspace) -> CheckedHashStatus | None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        screen.go(40)
        screen = await settle(pilot)
        inspector = screen.query_one(EventInspector)
        status = inspector._hash
        return status if isinstance(status, CheckedHashStatus) else None


async def test_an_event_in_the_checkpoint_is_shown_as_such(workspace: Workspace) -> None:
    assert await _status(workspace) is None  # no checkpoint issued: no line
    size = workspace.store.head().position
    issue_checkpoint(workspace.proofs, size, origin="t/log", signer=None, issued_at="t")
    status = await _status(workspace)
    assert status is not None and status.checkpoint is not None
    assert status.checkpoint.ok is True
    assert status.checkpoint.text == f"✓ in checkpoint size {size}"


async def test_an_event_after_the_checkpoint_is_not_claimed(workspace: Workspace) -> None:
    issue_checkpoint(workspace.proofs, 10, origin="t/log", signer=None, issued_at="t")
    status = await _status(workspace)
    assert status is not None and status.checkpoint is not None
    assert status.checkpoint.ok is None
    assert "after the last checkpoint (size 10)" in status.checkpoint.text
