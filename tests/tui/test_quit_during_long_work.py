"""Quitting while long background work runs: nothing keeps the process waiting for it.

At 10M events the read-model check and the scrubber's axis take minutes and seconds; the
process can only exit when its worker threads end (asyncio joins them), so each must stop
at its next step once the app closes.
"""

from __future__ import annotations

import pytest

from domain.errors import StoreError
from tui.bootstrap import Workspace, app_session
from tui.derived_check import DerivedCheck


def test_quitting_during_the_childs_check_starts_no_check_in_process(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing kills the child; the check must then give up, not replay every event in
    this process instead (which kept a quit at 10M waiting for minutes)."""
    check = DerivedCheck(workspace, child_events=0)

    def child_killed_by_close(*_: object) -> None:
        check.close()  # the user quits while the child checks
        return None  # what `_in_child` says of a child that was killed

    def replay_in_process() -> None:
        raise AssertionError("the whole deep check ran in the closing app's process")

    monkeypatch.setattr(check, "_in_child", child_killed_by_close)
    monkeypatch.setattr(workspace, "deep_check", replay_in_process)
    status = check.run()
    assert status.state == "unchecked"


def test_a_check_whose_child_fails_still_runs_in_process(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback stays for a child that could not say (the app is not closing)."""
    check = DerivedCheck(workspace, child_events=0)
    monkeypatch.setattr(check, "_in_child", lambda *_: None)
    assert check.run().state == "ok"


def test_the_scrubber_axis_stops_at_its_next_probe_once_the_app_closes(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = app_session(workspace, project=False)
    probes: list[str] = []
    position_at = workspace.store.position_at

    def probe(moment: str) -> int:
        probes.append(moment)
        if len(probes) == 3:  # the user quits during the build
            session.calls.close(timeout=0)
        return position_at(moment)

    monkeypatch.setattr(workspace.store, "position_at", probe)
    with pytest.raises(StoreError, match="closing"):
        session.queries.time_axis(80)
    assert len(probes) == 3  # not one query after the close


def test_the_scrubber_axis_builds_whole_while_the_app_is_open(workspace: Workspace) -> None:
    session = app_session(workspace, project=False)
    axis = session.queries.time_axis(80)
    assert axis.boundaries[-1] == workspace.store.head().position
    assert len(axis.boundaries) == 81
