"""Start-up of `eventscope exec`: it imports what running one command needs, and no more.

What a process imports is what its start-up costs (issue 14: `exec deposit` in at most
150 ms). Checked in a fresh interpreter; the counterpart shows the check can fail.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_FOR_EXEC = (
    "textual",
    "sqlite_utils",
    "store.memory",
    "store.projector",
    "store.deep_check",
    "store.snapshots",
    "domain.timeline",
    "tui.cli.readside",
    "tui.cli.blame",
    "tui.cli.proofs",
    "tui.cli.serve",
    "tui.derived_check",
)


def _loaded_by(tmp_path: Path, *argv: str) -> set[str]:
    """The modules loaded after `eventscope --db tmp/x.db ARGV` ran in a fresh interpreter."""
    db = tmp_path / "x.db"
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        f"code = main(['--db', {str(db)!r}, '--actor', 'ann', *{list(argv)!r}])\n"
        "assert code == 0, code\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(done.stderr.split())


def _setup(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    for argv in (
        ["init"],
        ["exec", "open_account", "account_id=a1", "owner=Ann", "currency=EUR"],
    ):
        subprocess.run(
            [sys.executable, "-m", "tui", "--db", db, "--actor", "ann", *argv],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )


def test_exec_deposit_loads_no_read_side_no_app_and_no_migrations(tmp_path: Path) -> None:
    _setup(tmp_path)
    loaded = _loaded_by(tmp_path, "exec", "deposit", "account_id=a1", "amount=1.00")
    assert "store.sqlite.append" in loaded  # it did run the command
    assert not {name for name in NOT_FOR_EXEC if name in loaded}


def test_the_startup_check_can_fail(tmp_path: Path) -> None:
    """`state` reads the past: the same check sees the timeline loaded there."""
    _setup(tmp_path)
    assert "domain.timeline" in _loaded_by(tmp_path, "state")
