"""The layer rule: domain loads no IO or UI library; store and the app's services load no UI.

Checked in a fresh interpreter, so what another test imported cannot hide a leak.
"""

from __future__ import annotations

import ast
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


# -- effects: the domain computes; time, signals, threads, compression and source files
# are the outer layers' (they inject them). pydantic itself loads threading, zlib and
# inspect, so this reads what domain modules import and call, not what is loaded.

EFFECT_MODULES = {"zlib", "threading", "_thread", "signal", "time", "inspect", "gc", "sqlite3"}
EFFECT_CALLS = {("gc", "disable"), ("gc", "enable"), ("gc", "freeze"), ("gc", "collect")}


def _effects(path: Path) -> list[str]:
    """`line name` for each effect module imported and each gc switch called in `path`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module.split(".")[0]]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names = [f"{node.value.id}.{node.attr}"]
        else:
            continue
        found += [
            f"{node.lineno} {name}"
            for name in names
            if name in EFFECT_MODULES or tuple(name.split(".")) in EFFECT_CALLS
        ]
    return found


_PENDING: set[str] = set()
"""Modules excused from the effect check (none: the collector pause lives in store/)."""


def test_the_domain_imports_no_effects() -> None:
    """No domain module sleeps, handles signals, starts or locks threads, compresses,
    reads source files, or switches the garbage collector: the outer layers inject
    those (a `pace` callable, a snapshot codec, a snapshot key, a lock factory)."""
    found = [
        f"{path.relative_to(ROOT)}:{hit}"
        for path in sorted((ROOT / "domain").rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in _PENDING
        for hit in _effects(path)
    ]
    assert not found, "\n".join(found)


def test_the_effect_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import zlib\nfrom time import sleep\nimport gc\ngc.disable()\n")
    assert _effects(sample) == ["1 zlib", "2 time", "3 gc", "4 gc.disable"]
