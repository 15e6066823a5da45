"""The example plug-in `examples/todo_domain`, installed for real, driven like a user would.

The package is built and installed with pip into a temporary folder (offline: the
build backend, hatchling, comes with the `test` extra), so its `eventscope.domains`
entry point is found the way any installed plug-in's is. The CLI runs in subprocesses
with only `PYTHONPATH` pointing there; `--domain module:attr` runs without installing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.app import EventscopeApp
from tui.bootstrap import app_session, open_workspace
from tui.cli import main
from tui.widgets.projection_table import ProjectionTable

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "todo_domain"


def _eventscope() -> list[str]:
    """The `eventscope` console script of this environment (else `python -m tui`)."""
    script = Path(sys.executable).with_name("eventscope")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the plug-in installed into it (package and dist-info)."""
    target = tmp_path_factory.mktemp("site")
    # Build from a copy so the build leaves nothing behind in the repository.
    source = tmp_path_factory.mktemp("src") / "todo_domain"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "build"))
    result = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
            "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    entry_points = next(target.glob("eventscope_todo_domain-*.dist-info")) / "entry_points.txt"
    assert "todo = todo_domain:TODO_DOMAIN" in entry_points.read_text()
    return target


def run(pythonpath: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`eventscope ARGS...` in a fresh process whose PYTHONPATH is only `pythonpath`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTSCOPE_")}
    env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [*_eventscope(), "--actor", "tester", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_installed_plugin_is_found_by_name(site: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "todo.db")
    init = run(site, "--db", db, "--domain", "todo", "init")
    assert init.returncode == 0, init.stderr
    assert "(todo," in init.stdout
    added = run(site, "--db", db, "exec", "add_todo", "todo_id=milk", "text=buy milk")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["events"][0]["type"] == "TodoAdded"
    done = run(site, "--db", db, "exec", "complete_todo", "todo_id=milk")
    assert done.returncode == 0, done.stderr
    again = run(site, "--db", db, "exec", "complete_todo", "todo_id=milk")
    assert again.returncode == 1
    assert "to-do milk is already done" in again.stderr

    log = run(site, "--db", db, "log")
    assert log.returncode == 0, log.stderr
    assert [line.split()[4] for line in log.stdout.splitlines()] == [
        "TodoAdded",
        "TodoCompleted",
    ]
    state = run(site, "--db", db, "--domain", "todo", "state", "--json")
    assert state.returncode == 0, state.stderr
    rows = json.loads(state.stdout)["todos"]
    assert rows["milk"] | {"updated": None} == {
        "todo_id": "milk",
        "text": "buy milk",
        "status": "done",
        "updated": None,
    }
    # The database records its domain: opening it as another one is refused.
    ledger = run(site, "--db", db, "--domain", "ledger", "state")
    assert ledger.returncode == 2
    assert "written by the todo domain" in ledger.stderr


def test_module_attr_needs_no_install(tmp_path: Path) -> None:
    db = str(tmp_path / "todo.db")
    spec = ("--db", db, "--domain", "todo_domain:TODO_DOMAIN")
    assert run(EXAMPLE, *spec, "init").returncode == 0
    assert run(EXAMPLE, *spec, "exec", "add_todo", "todo_id=milk", "text=buy milk").returncode == 0
    state = run(EXAMPLE, *spec, "state", "--json")
    assert state.returncode == 0, state.stderr
    assert json.loads(state.stdout)["todos"]["milk"]["status"] == "open"
    # Without --domain the recorded name, todo, is not installed here: say what to do.
    bare = run(EXAMPLE, "--db", db, "state")
    assert bare.returncode == 2
    assert "install its package, or give --domain module:attr" in bare.stderr


async def test_the_app_shows_the_todos_panel(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "todo.db"
    # In this process too the domain is found through the installed entry point.
    monkeypatch.syspath_prepend(str(site))
    assert main(["--db", str(db), "--domain", "todo", "init"]) == 0
    assert main(["--db", str(db), "exec", "add_todo", "todo_id=milk", "text=buy milk"]) == 0
    workspace = open_workspace(db, actor="tester")
    try:
        assert workspace.domain.name == "todo"
        app = EventscopeApp(
            app_session(workspace, project=False), watch=False, verify=False, cursor_blink=False
        )
        async with app.run_test(size=(120, 36)) as pilot:
            table = app.main.query_one("#table-todos", ProjectionTable)
            start = time.monotonic()
            while table.row_count == 0:
                assert time.monotonic() - start < 10, "the To-dos panel stayed empty"
                await pilot.pause(0.05)
            await pilot.pause(0.05)
            line = table.render_line(1).text
            assert "milk" in line and "buy milk" in line and "open" in line
            assert "To-dos" in app.export_screenshot()
    finally:
        workspace.close()
