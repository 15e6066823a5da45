"""The app's background deep check: are the derived tables what the events say?

The same check as `eventscope verify --deep` (`store.deep_check`): every snapshot, the
read models at their checkpoint and every commands row, compared with a replay. The
header shows its outcome apart from the chain's: "read models ✓ at #N" only once it
has compared them, "checking…" meanwhile, "unchecked" when it did not (or could not),
"✗ what" at the first mismatch. Like the chain check, a large history is checked by a
child process (`eventscope --read-only verify --deep --json`, at low priority) so the
app stays responsive; a small one in the calling (worker) thread. Textual-free.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from domain.errors import DomainError
from store.deep_check import DeepReport
from tui.bootstrap import Workspace

DerivedState = Literal["unchecked", "checking", "ok", "broken"]

CHILD_EVENTS = 20_000
"""Above this many events the check runs in a child process (as the chain check does)."""


@dataclass(frozen=True)
class DerivedStatus:
    """The header's indicator of the derived tables."""

    state: DerivedState
    detail: str = ""
    position: int = 0
    """The checkpoint the read models were compared at (when `ok`)."""
    headline: str = ""
    """What is wrong, short enough for the header (when `broken`)."""

    @classmethod
    def of(cls, report: DeepReport) -> DerivedStatus:
        """The status `report` supports (never ok for what it did not compare)."""
        problem = report.problem
        if problem is not None:
            label = _LABELS.get(problem.kind, problem.kind)
            if problem.kind == "snapshot" and problem.position:
                label = f"snapshot at #{problem.position:,}"
            what = problem.message
            if problem.kind in ("read_models", "snapshot"):
                what = what.split(": ", 1)[-1]  # which projection and row
            return cls("broken", problem.message, problem.position or 0, f"{label}: {what}")
        if report.read_models_position is None:
            return cls("unchecked", "; ".join(report.notes) or "read models not compared")
        return cls("ok", report.message, report.read_models_position)


def run_deep_check(ws: Workspace) -> DeepReport:
    """`verify --deep` on the workspace's database (blocking; seconds on a large one)."""
    return ws.deep_check()


_LABELS = {
    "read_models": "read models",
    "snapshot": "snapshot",
    "checkpoint": "checkpoint",
    "commands": "commands",
    "schema": "schema",
    "replay": "replay",
}


class DerivedCheck:
    """Runs the deep check for the app, once per `run()`; `close()` stops a child."""

    def __init__(self, ws: Workspace, *, child_events: int = CHILD_EVENTS) -> None:
        self.ws = ws
        self.child_events = child_events
        self._lock = threading.Lock()
        self._child: subprocess.Popen[str] | None = None
        self._closed = False

    def run(self) -> DerivedStatus:
        """Check now (blocking: call from a worker thread)."""
        try:
            child = self.ws.child_database()
            if child is not None and self.ws.store.head().position > self.child_events:
                report = self._in_child(*child)
                if report is not None:
                    return DerivedStatus.of(report)
            if self._closed:  # never start the whole replay here while the app closes
                return DerivedStatus("unchecked", "the app closed before the check ended")
            return DerivedStatus.of(run_deep_check(self.ws))
        except DomainError as exc:
            return DerivedStatus("unchecked", exc.message)

    def _in_child(self, db_args: list[str], env: dict[str, str]) -> DeepReport | None:
        """The report of `eventscope --read-only verify --deep --json`; None when the
        child could not say (a key it cannot find, the app closing). `db_args` and `env`
        name the database (`Workspace.child_database`)."""
        import tui

        command = [
            sys.executable, "-m", "tui", *db_args,
            "--domain", self.ws.domain.name, "--read-only", "verify", "--deep", "--json",
        ]  # fmt: skip
        nice = shutil.which("nice")
        if nice is not None:
            command = [nice, "-n", "10", *command]
        with self._lock:
            if self._closed:
                return None
            self._child = child = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env={**os.environ, **env},
                cwd=str(Path(tui.__file__).resolve().parents[1]),
            )
        out, _ = child.communicate()
        if self._closed or child.returncode not in (0, 1):
            return None
        try:
            deep = json.loads(out).get("deep")
        except ValueError:
            return None
        if not isinstance(deep, dict):
            return None
        return DeepReport.from_json_dict(deep)

    def close(self) -> None:
        """Stop a child still checking (the app is closing)."""
        with self._lock:
            self._closed = True
            child = self._child
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
