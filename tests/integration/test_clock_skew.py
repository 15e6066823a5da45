"""One writer's clock 30 years ahead: its event is flagged, every other event keeps its
own time, and "the books at time T" (`position_at`) is right for CLI and app alike."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from domain.clock import StepClock, format_time, parse_time
from domain.clock_skew import SKEW_TOLERANCE, SKEW_WINDOW, TimeBlocks
from domain.envelope import PendingEvent
from store import InMemoryEventStore, SqliteEventStore
from tui.bootstrap import Workspace, app_session, open_workspace
from tui.cli import main
from tui.widgets.inspector import render_event

START = "2026-03-01T09:00:00Z"
AHEAD = "2057-03-01T09:00:00Z"


def _workspace(db: Path, start: str, *, create: bool = False) -> Workspace:
    clock = StepClock(start, step=timedelta(minutes=1))
    return open_workspace(db, create=create, clock=clock, actor="ann")


def _deposit(ws: Workspace, cents: int = 100) -> int:
    fields = {"account_id": "a1", "amount": f"{cents / 100:.2f}", "channel": "online"}
    result = ws.bus.execute_fields("deposit", fields, actor=ws.actor)
    return result.positions[-1]


def _history(db: Path) -> tuple[Workspace, int]:
    """Positions 1-4 and 6-17 by a good clock (a minute apart), 5 by one 31 years ahead."""
    ws = _workspace(db, START, create=True)
    fields = {"account_id": "a1", "owner": "Ada", "currency": "EUR"}
    ws.bus.execute_fields("open_account", fields, actor="ann")
    for _ in range(3):
        _deposit(ws)
    skewed = _workspace(db, AHEAD)
    skewed_position = _deposit(skewed, 500)
    skewed.close()
    for _ in range(12):
        _deposit(ws)
    return ws, skewed_position


def test_a_writer_30_years_ahead_changes_no_other_events_time(tmp_path: Path) -> None:
    ws, skewed = _history(tmp_path / "bank.db")
    events = ws.store.read_all()
    assert skewed == 5 and len(events) == 17
    good = [e for e in events if e.position != skewed]
    # The good clock gave one time per read; each event kept exactly the one it got.
    assert [e.recorded_at for e in good] == [
        format_time(parse_time(START) + timedelta(minutes=m)) for m in range(16)
    ]
    assert events[skewed - 1].recorded_at.startswith("2057-03-01T09:00:00")
    assert ws.store.verify().ok

    # "The books at 09:03:30" hold positions 1-4; at 09:04 the deposit of position 6
    # is in, and with it the skewed one written before it.
    assert ws.store.position_at("2026-03-01T09:03:30Z") == 4
    assert ws.store.position_at("2026-03-01T09:04:00Z") == 6
    assert ws.timeline.position_at("2026-03-01T09:15:00Z") == 17
    assert ws.store.position_at("2040-01-01") == 17
    ws.close()


def test_state_at_time_and_the_app_agree_on_position_at(tmp_path: Path, capsys: Any) -> None:
    db = tmp_path / "bank.db"
    ws, _ = _history(db)
    session = app_session(ws, project=False)
    for moment in ("2026-03-01T09:03:30", "2026-03-01T09:04:00", "2026-03-01T09:08:10"):
        position = ws.timeline.position_at(moment)
        assert session.resolve_target(moment, 0) == position
        capsys.readouterr()
        args = ["--db", str(db), "state", "--at-time", moment, "--projection", "account_balances"]
        assert main([*args, "--json"]) == 0
        balances = json.loads(capsys.readouterr().out)
        expected = ws.timeline.state_at(position)["account_balances"].rows
        assert balances["a1"]["balance"] == expected["a1"]["balance"]
    # The scrubber's time axis cuts the same boundaries, never going back.
    axis = session.time_axis(16)
    assert list(axis.boundaries) == sorted(axis.boundaries)
    assert axis.boundaries[-1] == 17
    ws.close()


def test_the_skewed_event_is_flagged_in_audit_flags(tmp_path: Path) -> None:
    ws, skewed = _history(tmp_path / "bank.db")
    key = f"{skewed:010d}:clock_skew:"
    # Decided once W events followed it: not before.
    before = ws.timeline.state_at(skewed + SKEW_WINDOW - 1)["audit_flags"].rows
    assert key not in before
    rows = ws.timeline.state_at(17)["audit_flags"].rows
    flags = {k: r for k, r in rows.items() if r["flag"] == "clock_skew"}
    assert list(flags) == [key]
    assert flags[key]["direction"] == "ahead"
    assert flags[key]["median"].startswith("2026-03-01")
    column = {c.name: c for c in ws.domain.projection("audit_flags").columns}["detail"]
    assert column.format(flags[key]) == (
        "recorded ahead of the events around it (about 2026-03-01 09:06:00)"
    )
    # The projector's read model folds the same rule.
    with ws.projector() as projector:
        projector.catch_up()
        stored = projector.rows("audit_flags")
    assert key in stored
    ws.close()


def test_the_inspector_shows_a_clock_skew_line_for_the_skewed_event_only(
    tmp_path: Path,
) -> None:
    ws, skewed = _history(tmp_path / "bank.db")
    session = app_session(ws, project=False)

    def shown(position: int) -> str:
        event = ws.store.read_all(after=position - 1, to=position)[0]
        content = render_event(event, session.related(event), session.hash_status(event))
        console = Console(width=120, record=True, color_system=None)
        console.print(content)
        return console.export_text()

    assert "clock skew: recorded ahead of the events around it" in shown(skewed)
    assert "clock skew" not in shown(skewed + 1)
    assert "clock skew" not in shown(skewed - 1)
    ws.close()


# -- position_at against its definition, on any times ------------------------------------

_BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _flagged(times: list[datetime], position: int) -> bool:
    """The skew rule spelled out from its documentation (positions are 1-based)."""
    head = len(times)
    if position + SKEW_WINDOW > head:
        return False
    first = max(1, position - SKEW_WINDOW)
    window = times[first - 1 : position + SKEW_WINDOW]
    own = times[position - 1]
    median = sorted(window)[len(window) // 2]
    later = times[position : position + SKEW_WINDOW]
    earlier = times[first - 1 : position - 1]
    ahead = own - median > SKEW_TOLERANCE and any(own - t > SKEW_TOLERANCE for t in later)
    behind = median - own > SKEW_TOLERANCE and any(t - own > SKEW_TOLERANCE for t in earlier)
    return ahead or behind


def _brute_position_at(times: list[datetime], moment: datetime) -> int:
    found = [p for p in range(1, len(times) + 1) if times[p - 1] <= moment]
    return max((p for p in found if not _flagged(times, p)), default=0)


# Steps between events: mostly small, some long pauses, some clocks far off.
_STEPS = st.sampled_from(
    [
        timedelta(0),
        timedelta(seconds=1),
        timedelta(seconds=40),
        timedelta(minutes=3),
        timedelta(hours=2),
        timedelta(seconds=-2),
        timedelta(minutes=-7),
    ]
)
_OFFSETS = st.sampled_from([timedelta(0)] * 6 + [timedelta(days=11_000), -timedelta(days=9_000)])


@st.composite
def _logs(draw: st.DrawFn) -> list[datetime]:
    count = draw(st.integers(min_value=0, max_value=60))
    moment, times = _BASE, []
    for _ in range(count):
        moment += draw(_STEPS)
        times.append(moment + draw(_OFFSETS))  # a skewed clock does not move the others
    return times


def _pending(times: list[datetime]) -> list[PendingEvent]:
    return [
        PendingEvent(
            event_id=f"e-{n}",
            stream_id="account-a",
            stream_type="account",
            version=n + 1,
            type="Deposited",
            data={"amount": n},
            metadata={"actor": "t", "command_id": f"c-{n}", "command_type": "deposit"},
            recorded_at=format_time(moment),
        )
        for n, moment in enumerate(times)
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(times=_logs(), block=st.sampled_from([1, 3, 4096]), data=st.data())
def test_position_at_matches_its_definition_on_any_times(
    times: list[datetime], block: int, data: st.DataObject
) -> None:
    probes = {_BASE - timedelta(days=1), _BASE + timedelta(days=20_000)}
    for moment in times:
        probes |= {moment, moment - timedelta(microseconds=1), moment + timedelta(seconds=1)}
    probes |= {_BASE + data.draw(_STEPS) * data.draw(st.integers(0, 40)) for _ in range(5)}
    expected = {moment: _brute_position_at(times, moment) for moment in probes}

    memory = InMemoryEventStore()
    memory._time_blocks = TimeBlocks(block)
    memory.append_bulk(_pending(times))
    with tempfile.TemporaryDirectory() as folder:
        sqlite = SqliteEventStore(Path(folder) / "t.db", create=True)
        try:
            sqlite.append_bulk(_pending(times))
            sqlite._time_blocks = TimeBlocks(block)
            for moment, position in expected.items():
                text = format_time(moment)
                assert memory.position_at(text) == position, (text, times)
                assert sqlite.position_at(text) == position, (text, times)
        finally:
            sqlite.close()
