"""Fixtures for the app's tests: one demo database per worker, a fresh copy per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_support import load_demo, open_test_workspace

from tui.bootstrap import Workspace


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
