"""An unexpected error in the app: non-zero exit, one line naming a crash log, no data lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_support import make_app, open_test_workspace, wait_for

from tui.crash import CRASH_EXIT_CODE, crash_line, write_crash_log


async def test_a_crash_in_the_app_writes_a_log_and_is_not_success(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    workspace = open_test_workspace(demo_db)
    head = workspace.store.head()
    app = make_app(workspace)
    try:
        with pytest.raises(ZeroDivisionError):
            async with app.run_test(size=(120, 36)) as pilot:
                await wait_for(pilot, lambda: app.main.is_mounted, what="main screen")
                app.call_later(lambda: 1 / 0)
                await pilot.pause()
                await pilot.pause()
    finally:
        workspace.close()
    assert app.return_code == 1
    assert app.crash_report is not None
    assert "ZeroDivisionError" in app.crash_report
    logs = list((tmp_path / "state" / "eventscope").glob("crash-*.log"))
    assert len(logs) == 1
    assert "ZeroDivisionError" in logs[0].read_text()
    assert str(logs[0]) in app.crash_report
    reopened = open_test_workspace(demo_db)
    try:
        assert reopened.store.head() == head
    finally:
        reopened.close()


def test_the_crash_line_is_one_escaped_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    error = KeyError("evil\x1b[2J\nfake line")
    log = write_crash_log(error)
    line = crash_line(error, log)
    assert "\n" not in line and "\x1b" not in line
    assert str(log) in line
    assert CRASH_EXIT_CODE not in (0, 1, 2)
