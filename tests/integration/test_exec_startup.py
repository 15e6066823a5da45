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
    # pydantic's plug-in lookup reads package metadata only when a plug-in may be
    # installed (tui/pydantic_plugins.py)
    "importlib.metadata",
    # the store roles' types, the read-model role, snapshot formats: built only by
    # reads, verification and the projector, never by an append
    "domain.ports",
    "store.read_models",
    "store.sqlite.read_models",
    "store.replay",
    "domain.snapshots",
    "store.snapshot_format",
    # what only `verify`, `log` and `export` print or write
    "store.transfer.records",
    "tui.cli.output_file",
    "tempfile",
    # an import's replay through the rules
    "domain.history_check",
    # the terminal's width, read only when help is printed (with the compression
    # modules shutil loads), and the commands that are not run (tui/cli/parser.py)
    "shutil",
    "lzma",
    "bz2",
    # the domain's projections, loaded when first read (domain/deferred.py)
    "domain.ledger.projections",
    # the books-at-a-time index with its clock-skew rules (on the first position_at)
    "store.sqlite.time_index",
    "domain.clock_skew",
    # the records of the bulk path, listings and bookmarks (PEP 562 in domain.envelope)
    "domain.store_records",
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


COLLECTOR_PROBE = """
import gc, sys
from tui.cli import commands, main, start_up

collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(start_up._paused))
seen = []
real_init = commands.init

def init(args):
    seen.append(gc.isenabled())
    return real_init(args)

commands.init = init
if sys.argv[1] == "console":
    start_up.pause_collector()
code = main(["--db", sys.argv[2], "--actor", "ann", *sys.argv[3:]])
assert code == 0, code
frozen = gc.get_freeze_count()
start_up.before_exit()
print(gc.isenabled(), frozen > 0, any(collections), gc.get_freeze_count() > frozen,
      len(collections), seen, file=sys.stderr)
"""


def _collector_after(tmp_path: Path, how: str, *argv: str) -> list[str]:
    """What the collector did in `eventscope ARGV`, run as the console script runs it
    (`how` = "console") or through `main()` from Python ("main"): enabled afterwards,
    start-up frozen, collected while paused, the last pass at exit skipped, collections,
    enabled in `init`'s handler."""
    done = subprocess.run(
        [sys.executable, "-c", COLLECTOR_PROBE, how, str(tmp_path / "x.db"), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stderr.splitlines()[-1].split(maxsplit=5)


def test_exec_start_up_runs_without_collections_then_collects_again(tmp_path: Path) -> None:
    _setup(tmp_path)
    enabled, frozen, collected_while_paused, lean_exit, _, _ = _collector_after(
        tmp_path, "console", "exec", "deposit", "account_id=a1", "amount=1.00"
    )
    assert (enabled, frozen, collected_while_paused) == ("True", "True", "False")
    assert lean_exit == "True"  # a one-shot command skips the collector's last pass


def test_other_commands_run_their_handler_with_the_collector_on(tmp_path: Path) -> None:
    enabled, frozen, collected_while_paused, lean_exit, _, seen = _collector_after(
        tmp_path, "console", "init"
    )
    assert (enabled, frozen, collected_while_paused, seen) == ("True", "True", "False", "[True]")
    assert lean_exit == "False"  # it exits as Python always does


def test_main_from_python_leaves_the_collector_alone(tmp_path: Path) -> None:
    """The counterpart: without the console script's pause, start-up does collect."""
    _setup(tmp_path)
    enabled, frozen, _, _, collections, _ = _collector_after(
        tmp_path, "main", "exec", "deposit", "account_id=a1", "amount=1.00"
    )
    assert (enabled, frozen) == ("True", "False")
    assert int(collections) > 0


EXIT_PROBE = """
import atexit, sys, threading
from tui.cli import main, start_up

atexit.register(lambda: print("atexit ran", file=sys.stderr))
stop = threading.Event()
if sys.argv[1] == "thread":
    threading.Thread(target=stop.wait, args=(60,)).start()
start_up.pause_collector()
code = main(["--db", sys.argv[2], "--actor", "ann", *sys.argv[3:]])
start_up.before_exit()
start_up.end_one_shot(code)
print("back in Python", file=sys.stderr)
stop.set()
sys.exit(code)
"""


def _exit_of(tmp_path: Path, how: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """`eventscope ARGV` run as the console script runs it, with an exit handler that
    says it ran, alone or beside a thread that is still running (`how` = "thread")."""
    return subprocess.run(
        [sys.executable, "-c", EXIT_PROBE, how, str(tmp_path / "x.db"), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_exec_ends_after_the_exit_handlers_without_the_teardown(tmp_path: Path) -> None:
    _setup(tmp_path)
    done = _exit_of(tmp_path, "alone", "exec", "deposit", "account_id=a1", "amount=1.00")
    assert done.returncode == 0
    assert '"type":"MoneyDeposited"' in done.stdout  # flushed before the end
    assert "atexit ran" in done.stderr and "back in Python" not in done.stderr
    refused = _exit_of(tmp_path, "alone", "exec", "withdraw", "account_id=a1", "amount=99.00")
    assert refused.returncode == 1 and "refused" in refused.stderr
    assert "back in Python" not in refused.stderr


def test_other_commands_and_running_threads_exit_as_python_does(tmp_path: Path) -> None:
    """The counterpart: Python's own exit, which waits for the thread."""
    _setup(tmp_path)
    for how, argv in (
        ("thread", ("exec", "deposit", "account_id=a1", "amount=1.00")),
        ("alone", ("init",)),
    ):
        done = _exit_of(tmp_path, how, *argv)
        assert done.returncode == 0, done.stderr
        assert "atexit ran" in done.stderr and "back in Python" in done.stderr, argv
