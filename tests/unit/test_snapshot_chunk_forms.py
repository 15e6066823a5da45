"""Aux chunks kept in a chunk cache and copied out of it (`domain.snapshot_chunks`).

A restore shares a cached chunk's scalars and copies its containers: whatever a fold
then does to the restored state, in place and at any depth, no later restore sees it.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.projection import ProjectionState
from domain.snapshot_chunks import SharedContainers, SharedScalars, private_copy, shared_form
from domain.snapshots import ENCODING, ChunkCache, compress_chunk, decode_states, encode_states
from store.chunk_cache import NearCursorChunks

# Strings with brackets and quotes: they must never pass for containers, nor hide one.
texts = st.text(alphabet='ab{}[]":,\\ é', max_size=6)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)
aux_maps = st.dictionaries(
    texts,
    st.one_of(
        scalars,
        st.lists(scalars, max_size=3),
        st.dictionaries(texts, scalars, max_size=3),
        json_values,
    ),
    max_size=8,
)


def _mutate(value: Any) -> None:
    """Change every container inside `value` in place, at every depth."""
    if isinstance(value, dict):
        for item in list(value.values()):
            _mutate(item)
        value["mutated"] = True
    elif isinstance(value, list):
        for item in value:
            _mutate(item)
        value.append("mutated")


@settings(max_examples=300, deadline=None)
@given(chunk=aux_maps)
def test_a_copied_aux_chunk_equals_the_original_and_shares_nothing_mutable(
    chunk: dict[str, Any],
) -> None:
    raw = orjson.dumps(chunk)
    original = orjson.loads(raw)
    kept = shared_form(raw, orjson.loads(raw))
    assert private_copy(kept) == original
    for _ in range(2):
        restored: dict[str, Any] = {}
        restored.update(private_copy(kept))
        assert restored == original
        _mutate(restored)
        restored.clear()
        assert private_copy(kept) == original, "a fold's changes reached the cached chunk"


@settings(max_examples=200, deadline=None)
@given(chunk=aux_maps)
def test_a_chunk_is_shared_as_scalars_only_when_every_value_is_a_scalar(
    chunk: dict[str, Any],
) -> None:
    raw = orjson.dumps(chunk)
    kept = shared_form(raw, orjson.loads(raw))
    containers = [v for v in chunk.values() if isinstance(v, dict | list)]
    if isinstance(kept, SharedScalars):
        assert not containers
    if isinstance(kept, SharedContainers):
        assert len(containers) == len(chunk)
        for value in containers:
            inner = value.values() if isinstance(value, dict) else value
            assert not any(isinstance(item, dict | list) for item in inner)


def test_the_ledger_shapes_are_recognised() -> None:
    currency = {"eur-00001": "EUR", "usd-00002": "USD"}
    accounts = {"eur-00001": ["EUR", "open"], "usd-00002": ["USD", "frozen"]}
    nested = {"a": {"b": [1]}}
    assert type(shared_form(orjson.dumps(currency), dict(currency))) is SharedScalars
    assert type(shared_form(orjson.dumps(accounts), dict(accounts))) is SharedContainers
    assert type(shared_form(orjson.dumps(nested), dict(nested))) is dict
    # A bracket inside a string is not mistaken for a container, nor trusted as none.
    braces = {"a": "{x}", "b": "[y]"}
    assert type(shared_form(orjson.dumps(braces), dict(braces))) is dict
    assert private_copy(shared_form(orjson.dumps(braces), dict(braces))) == braces


@settings(max_examples=100, deadline=None)
@given(
    aux=st.dictionaries(st.sampled_from(["currency", "accounts", "other"]), aux_maps, max_size=3),
    rows=st.dictionaries(texts, st.dictionaries(texts, scalars, max_size=3), max_size=6),
    chunk_rows=st.sampled_from([1, 2, 256]),
    cache_kind=st.sampled_from(["shared", "near", "none"]),
)
def test_restores_through_a_cache_are_independent_of_each_other(
    aux: dict[str, Any], rows: dict[str, Any], chunk_rows: int, cache_kind: str
) -> None:
    # Maps longer than a chunk are chunked; shorter ones stay inline in the manifest.
    states = {"p": ProjectionState(rows=rows, aux=aux)}
    expected = orjson.loads(orjson.dumps({"rows": rows, "aux": aux}))
    manifest, chunks = encode_states(states, chunk_rows)
    stored = {d: compress_chunk(c) for d, c in chunks.items()}
    cache = {"shared": ChunkCache(10_000), "near": NearCursorChunks(), "none": None}[cache_kind]
    for _ in range(3):
        decoded = decode_states(ENCODING, manifest, lambda ds: {d: stored[d] for d in ds}, cache)
        state = decoded["p"]
        assert {"rows": state.rows, "aux": state.aux} == expected
        # A fold may change anything it restored, at any depth, in place.
        _mutate(state.rows)
        _mutate(state.aux)
