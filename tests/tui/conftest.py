"""Fixtures for the app's tests: one demo database per worker, a fresh copy per test."""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from domain_demos import DOMAINS, load_domain_demo
from textual.app import App
from textual.pilot import Pilot
from tui_support import load_demo, open_test_workspace, screen_at_rest, steady_log

from tui.bootstrap import Workspace

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None] | None]


@pytest.fixture
def snap_compare(snap_compare: SnapCompare) -> SnapCompare:
    """pytest-textual-snapshot's `snap_compare`, which takes its screenshot with the event
    log scrolled as a jump leaves it (`steady_log`) and only once the screen has stopped
    changing.

    The library takes it after one idle pause: under load a widget's last repaint (a
    scrollbar after a scroll, a band on the scrubber after the log moved) can still be
    pending then, and the snapshot flips between two drawings of the same state.
    """

    def compare(
        app: App[Any],
        terminal_size: tuple[int, int] = (80, 24),
        run_before: RunBefore | None = None,
    ) -> bool:
        async def then_at_rest(pilot: Pilot[Any]) -> None:
            if run_before is not None:
                steps = run_before(pilot)
                if inspect.isawaitable(steps):
                    await steps
            await steady_log(pilot)
            await screen_at_rest(pilot)

        return snap_compare(app, terminal_size=terminal_size, run_before=then_at_rest)

    return compare


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo history, built once per test process."""
    path = tmp_path_factory.mktemp("template") / "demo.db"
    load_demo(path)
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database (tests may write to it)."""
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    return path


@pytest.fixture
def workspace(demo_db: Path) -> Iterator[Workspace]:
    ws = open_test_workspace(demo_db)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def domain_demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each bundled domain's demo database, built once per test module."""
    folder = tmp_path_factory.mktemp("domains")
    return {d: load_domain_demo(d, folder / f"{d}.db") for d in DOMAINS}


@pytest.fixture(params=DOMAINS)
def domain_workspace(
    request: pytest.FixtureRequest, domain_demos: dict[str, Path], tmp_path: Path
) -> Iterator[Workspace]:
    """A private copy of each domain's demo database in turn (tests may write to it)."""
    path = tmp_path / "demo.db"
    shutil.copyfile(domain_demos[request.param], path)
    workspace = open_test_workspace(path)
    yield workspace
    workspace.close()
