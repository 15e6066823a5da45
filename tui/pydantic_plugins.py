"""Pydantic's plug-in lookup, without `importlib.metadata` when no plug-in is installed.

Pydantic looks for plug-ins (the `pydantic` entry-point group) the first time it builds
a validator, in `pydantic.plugin._loader`, whose import alone loads `importlib.metadata`
(email, csv, zipfile: about 20 ms, an eighth of `eventscope exec`; issue 14). The scan
below reads the same files that lookup reads (`entry_points.txt` of every distribution
on `sys.path`) as plain text. When none declares a `pydantic` section the answer is the
one pydantic would give, no plug-ins, and `importlib.metadata` is never imported. When
one does, or when some place cannot be read this way (a zip on `sys.path`, an egg, a
finder other than the standard one), pydantic's own loader runs as usual: an installed
plug-in is never hidden. `PYDANTIC_DISABLE_PLUGINS` keeps its documented meaning.

It touches one private name of pydantic (the loader's module); if pydantic moves it,
`tests/integration/test_exec_startup.py` fails and pydantic's own scan simply runs.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import types
from collections.abc import Iterable
from typing import Any

LOADER = "pydantic.plugin._loader"
"""The module in which pydantic keeps `get_plugins` (imported by it when a validator is built)."""

DISABLED = ("__all__", "1", "true")
"""Values of `PYDANTIC_DISABLE_PLUGINS` that turn every plug-in off (pydantic's docs)."""

_SECTION = re.compile(rb"^\s*\[\s*pydantic\s*\]", re.MULTILINE)


def pydantic_plugins_declared(paths: Iterable[str] | None = None) -> bool:
    """True unless every distribution on `paths` (default `sys.path`) is a plain folder
    whose `entry_points.txt` has no `[pydantic]` section; True also when unsure."""
    if any(_other_distribution_finder(finder) for finder in sys.meta_path):
        return True
    for entry in sys.path if paths is None else paths:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return True  # a zip on sys.path: let importlib.metadata read it
        except OSError:
            continue  # importlib.metadata skips a place it cannot list too
        for name in names:
            low = name.lower()
            if low.endswith(".egg"):
                return True
            if low.endswith((".dist-info", ".egg-info")) and _declares(folder, name):
                return True
    return False


def _other_distribution_finder(finder: Any) -> bool:
    """A finder that lists distributions itself, other than the standard `PathFinder`."""
    from importlib.machinery import PathFinder

    return finder is not PathFinder and hasattr(finder, "find_distributions")


def _declares(folder: str, distribution: str) -> bool:
    try:
        with open(os.path.join(folder, distribution, "entry_points.txt"), "rb") as text:
            return _SECTION.search(text.read()) is not None
    except (FileNotFoundError, NotADirectoryError):
        return False  # no entry points (or a one-file .egg-info, which holds none)
    except OSError:
        return True


def use_lean_plugin_scan() -> None:
    """Answer pydantic's plug-in lookup with `pydantic_plugins_declared` first.

    Call before pydantic builds its first validator (eventscope's messages defer their
    build to first use); afterwards, or once pydantic's loader is imported, it does nothing.
    """
    if LOADER in sys.modules:
        return
    stand_in = types.ModuleType(LOADER, "eventscope's stand-in (tui/pydantic_plugins.py)")
    stand_in.get_plugins = _get_plugins  # type: ignore[attr-defined]
    sys.modules[LOADER] = stand_in


_declared: bool | None = None


def _get_plugins() -> Iterable[Any]:
    """pydantic's `get_plugins`, reading `importlib.metadata` only if a plug-in may exist."""
    global _declared
    if os.getenv("PYDANTIC_DISABLE_PLUGINS") in DISABLED:
        return ()
    if _declared is None:
        _declared = pydantic_plugins_declared()
    if not _declared:
        return ()
    if getattr(sys.modules.get(LOADER), "get_plugins", None) is _get_plugins:
        del sys.modules[LOADER]  # our stand-in: make way for pydantic's own loader
    loader = importlib.import_module(LOADER)
    plugins: Iterable[Any] = loader.get_plugins()
    return plugins
