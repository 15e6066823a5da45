"""Fixtures for the app's tests: one demo database per worker, a fresh copy per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from domain_demos import DOMAINS, load_domain_demo
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
