"""The command bus's ids: RFC 4122 version-4 UUID text, unique, drawn in batches."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import domain.clock
from domain.clock import UUID_BATCH, UuidSource


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=3 * UUID_BATCH + 7))
def test_ids_are_distinct_version_4_uuids_across_batches(count: int) -> None:
    source = UuidSource()
    ids = [source.new_id() for _ in range(count)]
    assert len(set(ids)) == count
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # lowercase, hyphenated, as str(uuid.uuid4())
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_a_forked_child_draws_fresh_ids_not_its_parents_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = UuidSource()
    source.new_id()  # the pool now holds the parent's next ids
    left_by_parent = {
        f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{domain.clock._VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
        for h in source._pool
    }
    parent = domain.clock.os.getpid()
    monkeypatch.setattr(domain.clock.os, "getpid", lambda: parent + 1)
    child_ids = {source.new_id() for _ in range(UUID_BATCH)}
    assert not child_ids & left_by_parent
