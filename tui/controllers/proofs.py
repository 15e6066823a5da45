"""`p`: save the proof that the event under the cursor is in the log (docs/proofs.md)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from domain.errors import DomainError
from tui.controllers.workers import in_thread
from tui.proof_status import save_proof_bundle

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


class ProofSaver:
    """Writes the cursor's event's inclusion bundle to the current folder, in a worker."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def save(self, position: int) -> None:
        """Save the proof of the event at `position`; a notice names the file or the problem."""
        in_thread(self.screen, lambda: self._save(position), group="proof")

    def _save(self, position: int) -> None:
        folder = Path(os.getcwd() if os.access(os.getcwd(), os.W_OK) else tempfile.gettempdir())
        app = self.screen.app
        try:
            path = save_proof_bundle(self.screen.session, position, folder)
        except DomainError as exc:
            app.call_from_thread(app.notify, f"No proof saved: {exc}", severity="warning")
            return
        app.call_from_thread(
            app.notify,
            f"Proof of #{position:,} saved to {path} "
            f"(check it anywhere: eventscope verify-proof {path.name})",
            timeout=8,
        )
