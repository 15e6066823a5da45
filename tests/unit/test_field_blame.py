"""Field blame over random valid histories of both domains (real bus, in-memory store).

The definition: an event at position p blames field F of row K exactly when F's value
in row K differs between the state before it (the first p-1 events folded) and the
state after it (the first p). Values compare as stored (a missing row or field is
None); refused commands are not events, so the states are the events' folds alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from timeline_support import CASES, TimelineCase, case_id, expected, rows

from domain.errors import InvalidInput
from domain.snapshots import InMemorySnapshots
from domain.timeline import Timeline, field_blame

each_domain = pytest.mark.parametrize("case", CASES, ids=case_id)


def _value(states: dict[str, dict[str, Any]], name: str, key: str, field: str) -> Any:
    row = states[name].get(key)
    return None if row is None else row.get(field)


@each_domain
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_blame_is_exactly_the_positions_where_the_field_changed(
    case: TimelineCase, data: st.DataObject
) -> None:
    store = case.history(data.draw(case.plans, label="plan"))
    timeline = Timeline(store, case.projections, case.catalog, InMemorySnapshots(), cadence=3)
    head = store.head().position
    pure = [rows(expected(store, p, case.projections, refusals=False)) for p in range(head + 1)]
    since = data.draw(st.integers(0, head), label="since")
    to = data.draw(st.integers(since, head), label="to")
    for projection in case.projections:
        name = projection.name
        keys = set().union(*(states[name] for states in pure))
        for key in sorted(keys):
            # Every field the row ever had, shown in a column or not.
            fields = sorted({f for states in pure for f in states[name].get(key, {})})
            for field in fields:
                wanted = [
                    p
                    for p in range(1, head + 1)
                    if _value(pure[p - 1], name, key, field) != _value(pure[p], name, key, field)
                ]
                blame = field_blame(timeline, name, key, field)
                assert [b.event.position for b in blame] == wanted, (name, key, field)
                for entry in blame:
                    p = entry.event.position
                    assert entry.before == _value(pure[p - 1], name, key, field)
                    assert entry.after == _value(pure[p], name, key, field)
                    assert entry.row_created == (pure[p - 1][name].get(key) is None)
                # Limited to A..B (the diff view): only since < p <= to.
                window = field_blame(timeline, name, key, field, since=since, to=to)
                assert [b.event.position for b in window] == [p for p in wanted if since < p <= to]


def test_blame_of_an_unknown_projection_names_the_known_ones() -> None:
    case = CASES[0]
    store = case.history([])
    timeline = Timeline(store, case.projections, case.catalog, InMemorySnapshots())
    with pytest.raises(InvalidInput, match="known projections"):
        field_blame(timeline, "no_such_projection", "k", "f")
