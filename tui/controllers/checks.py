"""The background checks the header shows: the hash chain, then the derived tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from tui.controllers.workers import in_thread
from tui.derived_check import DerivedCheck, DerivedStatus
from tui.proof_status import latest_checkpoint_status
from tui.services.types import ChainStatus
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


class ChainChecked(Message):
    """The chain check finished (or could not run)."""

    def __init__(self, status: ChainStatus) -> None:
        super().__init__()
        self.status = status


class IntegrityChecks:
    """Runs the chain check and the derived-data check once, in one worker."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.chain = ChainStatus("unknown")
        self._derived = DerivedCheck(screen.session.workspace)

    def announce(self) -> None:
        """Say in the header that both checks are on their way."""
        self.chain = ChainStatus("checking")
        self.screen.query_one(StatusBar).update_view(
            chain=self.chain, derived=DerivedStatus("checking")
        )

    def start(self) -> None:
        """Walk the chain, then the derived tables, in a worker."""
        in_thread(self.screen, self._check, group="chain")

    def _check(self) -> None:
        screen = self.screen
        try:
            status = screen.session.chain.chain_status()
        except Exception as exc:
            status = ChainStatus("unknown", str(exc))
        screen.post_message(ChainChecked(status))
        checkpoint = latest_checkpoint_status(screen.session)  # O(log n), after the walk
        if checkpoint is not None:
            screen.app.call_from_thread(
                screen.query_one(StatusBar).update_view, checkpoint=checkpoint.text
            )
        derived = self._derived.run()  # then the derived tables (tui.derived_check)
        screen.app.call_from_thread(screen.query_one(StatusBar).update_view, derived=derived)

    def chain_checked(self, status: ChainStatus) -> None:
        """Show the chain's status (from `ChainChecked`); a broken chain is also notified."""
        self.chain = status
        self.screen.query_one(StatusBar).update_view(chain=status)
        if status.state == "broken":
            self.screen.notify(
                f"The hash chain does not verify: {status.detail}",
                title="Chain broken",
                severity="error",
                timeout=10,
            )

    def close(self) -> None:
        """Release the derived check's connection."""
        self._derived.close()
