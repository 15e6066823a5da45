"""Command handlers named by module, imported when their command runs.

The parser names every command's handler; importing every handler's module to do so
made `exec deposit …` load the read side, the proofs and `serve` too (start-up, issue 14).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]


def handler(module: str, name: str) -> Handler:
    """`tui.cli.<module>.<name>`, imported on its first call."""

    def run(args: argparse.Namespace) -> int:
        target: Handler = getattr(importlib.import_module(f"tui.cli.{module}"), name)
        return target(args)

    run.__name__ = run.__qualname__ = name
    run.__module__ = f"tui.cli.{module}"
    return run
