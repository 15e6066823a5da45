"""Closing the app's session while a worker thread still runs a database call: the
workspace then leaves its connection open for that call instead of closing it under
the running query (which can crash the process); once every call ended, it closes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from tui_support import open_test_workspace

from domain.errors import StoreError
from tui.bootstrap import app_session
from tui.session import Session


def _close_during_a_call(session: Session, query: Callable[[], int]) -> list[int]:
    """Run `query` in a worker call that starts before `session.close` gives up waiting
    for it and queries after it; what the query returned (nothing if it failed)."""
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    results: list[int] = []

    def long_call() -> None:
        with session.calls:  # as a @blocking service method counts itself
            started.set()
            release.wait(10)
            results.append(query())  # the query after the close
        done.set()

    worker = threading.Thread(target=long_call)
    worker.start()
    assert started.wait(10)
    session.close(timeout=0.05)  # gives up waiting: the call still runs
    session.workspace.close()
    release.set()
    worker.join(10)
    assert done.is_set()
    return results


def test_a_call_still_running_keeps_the_connection_open(demo_db: Path) -> None:
    workspace = open_test_workspace(demo_db)
    session = app_session(workspace, project=False)
    heads = _close_during_a_call(session, lambda: workspace.store.head().position)
    assert heads and heads[0] > 0  # the connection was left open for it
    workspace.store.close()  # the test closes it itself (the process would at its end)


def test_with_no_call_running_the_workspace_closes(demo_db: Path) -> None:
    workspace = open_test_workspace(demo_db)
    session = app_session(workspace, project=False)
    with session.calls:
        pass
    session.close(timeout=0.05)
    workspace.close()
    with pytest.raises(StoreError, match="is closed"):
        workspace.store.head()


def test_a_call_reading_the_read_models_keeps_their_connection_open(demo_db: Path) -> None:
    """The app's live frame reads the read models in a worker thread: closing the session
    meanwhile must not close their connections under it (seen as a segfault in CI)."""
    workspace = open_test_workspace(demo_db)
    session = app_session(workspace)
    read_side = session.read_side
    assert read_side is not None
    positions = _close_during_a_call(session, lambda: read_side.read_models().position)
    assert positions and positions[0] > 0
    read_side.projector.close()  # the test closes them itself (the process would at its end)
    workspace.store.close()


def test_with_no_call_running_the_read_models_close(demo_db: Path) -> None:
    workspace = open_test_workspace(demo_db)
    session = app_session(workspace)
    read_side = session.read_side
    assert read_side is not None
    read_side.read_models()
    session.close(timeout=0.05)
    workspace.close()
    with pytest.raises(StoreError):
        read_side.read_models()
