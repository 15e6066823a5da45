"""What `verify` checks besides the chain: the schema (always) and, with `--deep`, every
derived table recomputed from the events (`store.deep_check`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.text import escape
from store.sqlite.schema_check import schema_problem_of_file
from tui.bootstrap import MEMORY, Workspace
from tui.derived_check import run_deep_check


@dataclass(frozen=True)
class TrustCheck:
    """One part of `verify`'s report: ok, a line for people, a JSON value."""

    ok: bool
    line: str
    json: dict[str, Any]


def schema_check(path: Path, busy_timeout_ms: int = 5000) -> TrustCheck:
    """The append-only triggers and the schema version of the file at `path`."""
    return _schema_check(schema_problem_of_file(path, busy_timeout_ms))


def _schema_check(problem: str | None) -> TrustCheck:
    if problem is None:
        return TrustCheck(True, "schema ok: append-only triggers and version as migrated", {
            "ok": True, "problem": None
        })  # fmt: skip
    return TrustCheck(
        False, f"schema problem: {escape(problem)}", {"ok": False, "problem": problem}
    )


def deep_trust_check(ws: Workspace) -> TrustCheck:
    """`run_deep_check` as a part of `verify`'s report."""
    report = run_deep_check(ws)
    return TrustCheck(report.ok, escape(report.message), report.to_json_dict())


def checks(ws: Workspace, *, deep: bool) -> list[tuple[str, TrustCheck]]:
    """The parts `verify` adds to the chain's report, by their JSON name."""
    if ws.location == MEMORY:  # no triggers or migrations to check
        none = {"ok": True, "problem": None, "applies": False}
        found = [("schema", TrustCheck(True, "schema: nothing to check in memory", none))]
    else:
        found = [("schema", _schema_check(ws.schema_problem()))]
    if deep:
        found.append(("deep", deep_trust_check(ws)))
    return found
