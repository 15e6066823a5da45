"""The chain check: verify the hash chain, in a child process when the store is large."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from domain.errors import StoreError
from tui.services.calls import InFlight, blocking
from tui.services.types import ChainStatus

if TYPE_CHECKING:
    from tui.services.types import AppStore

CHAIN_CHILD_EVENTS = 100_000
"""Above this many events the chain is verified by a child process (`eventscope verify`):
a walk of 1M events is ~8 s of Python, which in this process would hold the GIL the
panels need. Below it, verifying here is quicker than starting a process."""


class ChainCheck:
    """The header's chain indicator. Blocking; call from a worker."""

    def __init__(
        self, store: AppStore, db_path: Path | None, domain_name: str, calls: InFlight
    ) -> None:
        self.store = store
        self.db_path = db_path
        self.domain_name = domain_name
        self.calls = calls
        self.child_events = CHAIN_CHILD_EVENTS
        self._checker: subprocess.Popen[str] | None = None
        self._checker_lock = threading.Lock()
        self._closed = False

    @blocking
    def chain_status(self) -> ChainStatus:
        """Verify the hash chain (seconds on a large store; in a child process there)."""
        if self.db_path is not None and self.store.head().position > self.child_events:
            status = self._chain_status_in_child()
            if status is not None:
                return status
        try:
            report = self.store.verify()
        except StoreError as exc:  # a keyed chain opened without its key
            return ChainStatus("unknown", str(exc))
        if report.ok:
            return ChainStatus("ok", report.message)
        return ChainStatus("broken", report.message, report.first_bad_position or 0)

    def _chain_status_in_child(self) -> ChainStatus | None:
        """`eventscope --read-only verify --json` in a child process, at low priority.

        The child finds the key where this process did, in the environment. None when
        it could not say (say, a key given with `--key-file`): verify here instead.
        """
        import tui

        assert self.db_path is not None
        command = [
            sys.executable,
            "-m",
            "tui",
            "--db",
            str(self.db_path.resolve()),
            "--domain",
            self.domain_name,
            "--read-only",
            "verify",
            "--json",
        ]
        nice = shutil.which("nice")
        if nice is not None:
            command = [nice, "-n", "10", *command]
        with self._checker_lock:
            if self._closed:
                return ChainStatus("unknown", "the app is closing")
            self._checker = checker = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                cwd=str(Path(tui.__file__).resolve().parents[1]),
            )
        out, _ = checker.communicate()
        if self._closed:
            return ChainStatus("unknown", "the app closed before the check ended")
        if checker.returncode not in (0, 1):
            return None
        try:
            report = json.loads(out)
        except ValueError:
            return None
        if report.get("ok"):
            return ChainStatus("ok", f"{report.get('checked', 0):,} events verified")
        bad = int(report.get("first_bad_position") or 0)
        detail = f"chain broken at position {bad}: {report.get('problem', '')}"
        return ChainStatus("broken", detail, bad)

    def close(self) -> None:
        """Stop a check still running (its child process), and refuse new children."""
        with self._checker_lock:
            self._closed = True
            checker = self._checker
        if checker is not None and checker.poll() is None:
            checker.kill()
            checker.wait()
