"""The layer rule: domain loads no IO or UI library; store and the app's services load no UI.

Checked in a fresh interpreter, so what another test imported cannot hide a leak.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> list[str]:
    found = [package]
    path = ROOT.joinpath(*package.split("."))
    for info in pkgutil.walk_packages([str(path)], prefix=f"{package}."):
        found.append(info.name)
    return found


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {line.split(".")[0] for line in out.splitlines()}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("domain", {"textual", "sqlite3", "_sqlite3", "sqlite_utils", "store", "tui"}),
        ("store", {"textual", "tui"}),
        # The app's services (and the session over them) run in workers, never on Textual.
        ("tui.services", {"textual"}),
    ],
)
def test_layer_imports_nothing_it_must_not(package: str, forbidden: set[str]) -> None:
    loaded = _loaded_after_import(_modules(package))
    assert not (loaded & forbidden), f"{package} loads {sorted(loaded & forbidden)}"


def test_layer_check_can_fail() -> None:
    """The check sees a forbidden import when there is one (so it is not vacuous)."""
    assert "textual" in _loaded_after_import(["textual"])
