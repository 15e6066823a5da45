"""The demo history contract every domain's generator keeps: deterministic, exactly
sized, lazily generated, well-formed, and faithful to the rules (parametrised over
the domains; what each domain's story holds is in test_demo_ledger/_inventory).

The key test replays every generated command (refused ones too) through the real
`CommandBus` on the in-memory store, and expects the very same events, ids, times and
refusal reasons: so every event a generator writes is one its domain would record.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import demo_engine
from domain.clock import format_time, parse_time
from domain.envelope import PendingEvent
from domain.errors import InvalidInput
from tests.unit.demo_support import CASES, DemoCase, Item, commands_of, events_of, replay


@pytest.fixture(scope="module", params=CASES, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> DemoCase:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def history(case: DemoCase) -> list[Item]:
    return case.history()


def test_same_seed_gives_identical_history(case: DemoCase, history: list[Item]) -> None:
    assert case.history() == history


def test_different_seed_gives_different_history(case: DemoCase) -> None:
    first, second = case.history(2000, 1), case.history(2000, 2)
    assert [e.data for e in events_of(first)] != [e.data for e in events_of(second)]


@pytest.mark.parametrize("events", [0, 1, 2, 3, 57, 1234])
def test_exactly_the_requested_number_of_events(case: DemoCase, events: int) -> None:
    assert len(events_of(case.history(events, seed=events))) == events


def test_the_history_holds_exactly_its_size(case: DemoCase, history: list[Item]) -> None:
    assert len(events_of(history)) == case.size


def test_negative_size_is_invalid_input(case: DemoCase) -> None:
    with pytest.raises(InvalidInput, match="events must be 0 or more"):
        case.generate(-1, 1)


def test_generation_is_lazy(case: DemoCase) -> None:
    """A caller can stream a huge history: nothing is generated before it is asked for."""
    assert len(list(itertools.islice(case.generate(10_000_000, 1), 5))) == 5


def test_times_are_format_time_strings_that_never_go_back(
    case: DemoCase, history: list[Item]
) -> None:
    times = [item.recorded_at for item in history]
    assert times == sorted(times)
    assert all(format_time(parse_time(t)) == t for t in times[:: max(1, len(times) // 500)])
    assert times[0] == format_time(parse_time(case.start))


def test_start_moves_the_whole_history(case: DemoCase) -> None:
    items = list(case.generate(50, 1, start="2025-06-02T09:30:00Z"))
    assert items[0].recorded_at == "2025-06-02T09:30:00.000000Z"


def test_versions_run_from_one_without_gaps_per_stream(history: list[Item]) -> None:
    versions: dict[str, list[int]] = defaultdict(list)
    for event in events_of(history):
        versions[event.stream_id].append(event.version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())


def test_ids_are_unique_uuids_and_commands_are_kept_once(
    case: DemoCase, history: list[Item]
) -> None:
    events = events_of(history)
    drawn_by, field = case.handler_id
    ids = [e.event_id for e in events] + [e.data[field] for e in events if e.type == drawn_by]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 36 and i[14] == "4" and i[19] in "89ab" for i in ids)
    commands = [
        g[0].metadata["command_id"] if isinstance(g, list) else g.command_id
        for g in commands_of(history)
    ]
    assert len(commands) == len(set(commands))
    for group in commands_of(history):
        if isinstance(group, list):
            assert group[0].command is not None
            assert all(e.command is None for e in group[1:])
            assert len({e.metadata["command_id"] for e in group}) == 1


def test_refusals_carry_a_reason_a_code_and_their_position(history: list[Item]) -> None:
    position = 0
    for item in history:
        if isinstance(item, PendingEvent):
            position += 1
        else:
            assert item.at_position == position
            assert item.reason and item.code in ("refused", "not_found")
    assert position < len(history), "a history of this size has refusals"


def test_replaying_the_commands_through_the_real_bus_gives_the_same_history(
    case: DemoCase, history: list[Item]
) -> None:
    replay(case, history)


def test_history_does_not_depend_on_the_process_hash_seed(case: DemoCase) -> None:
    """Nothing iterates a set or relies on hash order: two interpreters agree byte for byte."""
    code = (
        "import hashlib, orjson\n"
        "from dataclasses import asdict\n"
        f"from {case.generate.__module__} import generate_demo\n"
        "h = hashlib.sha256()\n"
        "for item in generate_demo(3000, 123): h.update(orjson.dumps(asdict(item)))\n"
        "print(h.hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


@settings(max_examples=12, deadline=None)
@given(events=st.integers(0, 700), seed=st.integers(0, 10_000))
def test_the_history_knows_its_last_time_before_it_is_played(
    case: DemoCase, events: int, seed: int
) -> None:
    """The end follows from the parameters (no dry run): the last command is stamped at
    `last_time`, and nothing comes after it."""
    run = case.generate(events, seed, **dict(case.options))
    told = run.last_time
    items = list(run)
    if events == 0:
        assert told is None
        return
    assert told is not None
    assert items[-1].recorded_at == told
    assert max(item.recorded_at for item in items) == told


@pytest.mark.parametrize("surplus", [0.3, 0.7])
def test_days_that_run_out_go_on_before_the_end(
    case: DemoCase, surplus: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the planned days run out before the last event (forced here by a last day
    that plans too little), later days are squeezed before the end, never past it."""
    monkeypatch.setattr(demo_engine, "LAST_DAY_SURPLUS", surplus)
    run = case.generate(2_000, 5, **dict(case.options))
    told = run.last_time
    items = list(run)
    times = [item.recorded_at for item in items]
    assert len(events_of(items)) == 2_000
    assert times == sorted(times)
    assert times[-1] == told
    assert len([t for t in times if t == told]) < 5  # the last command only
