"""The ChainIntegrity contract: verify, anchors and one-event checks, on every store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from contract_support import AnyStore, Kind, fill

from domain.envelope import (
    GENESIS_HASH,
    Head,
)
from store import check_anchor
from store.hashchain import ChainRow, canonical_row, chain_hash

# -- verify and anchors --------------------------------------------------------------------


def _edit_data(row: ChainRow) -> ChainRow:
    return (*row[:8], '{"amount":1000000}', *row[9:])


def _relink(row: ChainRow) -> ChainRow:
    return (*row[:10], "f" * 64, row[11])


def _bump_version(row: ChainRow) -> ChainRow:
    return (*row[:4], row[4] + 100, *row[5:])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_edit_data, "hash does not match"),
        (_relink, "prev_hash"),
        (_bump_version, "jumps from version"),
    ],
)
def test_verify_names_the_first_bad_position(
    kind: Kind, edit: Callable[[ChainRow], ChainRow], message: str
) -> None:
    store = kind.make()
    fill(store, 9)
    head = store.head()
    report = store.verify()
    assert report.ok and report.checked == 9 and report.head == head
    kind.tamper(store, 5, edit)
    report = store.verify()
    assert not report.ok
    assert report.first_bad_position == 5
    assert message in report.problem
    assert report.checked == 4
    assert report.head == Head(4, store.read_all(after=3, to=4)[0].hash)
    assert "position 5" in report.message


def test_keyed_chains_verify_only_with_their_key(kind: Kind) -> None:
    keyed = kind.make(key=b"secret")
    plain = kind.make()
    for store in (keyed, plain):
        fill(store, 4)
    assert keyed.verify().ok and keyed.verify().hash_mode == "hmac-sha256"
    assert plain.verify().hash_mode == "sha256"
    assert keyed.head() != plain.head()


def test_an_anchor_is_found_or_its_loss_named(store: AnyStore) -> None:
    fill(store, 5)
    anchor = store.head()
    fill(store, 2)
    assert check_anchor(store, anchor).ok
    assert check_anchor(store, Head(0, GENESIS_HASH)).ok
    ahead = check_anchor(store, Head(99, anchor.hash))
    assert not ahead.ok and "removed from the tail" in ahead.problem
    rewritten = check_anchor(store, Head(5, "0" * 63 + "1"))
    assert not rewritten.ok and "rewritten" in rewritten.problem


# -- verifying one event -------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, b"auditor's key"], ids=["sha256", "hmac"])
def test_verify_event_recomputes_one_stored_hash(kind: Kind, key: bytes | None) -> None:
    store = kind.make(key=key)
    fill(store, 6)
    events = store.read_all()
    assert all(store.verify_event(e) for e in events)
    fifth = events[4]
    assert not store.verify_event(replace(fifth, hash="0" * 64))
    assert not store.verify_event(replace(fifth, position=99))
    assert not store.verify_event(replace(fifth, prev_hash=events[2].hash))
    kind.tamper(store, 5, _edit_data)
    assert not store.verify_event(fifth)
    assert store.verify_event(events[3]) and store.verify_event(events[5])


def _forge_plain(row: ChainRow) -> ChainRow:
    """Edit the data and re-hash with plain SHA-256, as a forger without the key would."""
    edited: ChainRow = (*row[:8], '{"amount":1000000}', *row[9:])
    return (*edited[:11], chain_hash(edited[10], canonical_row(edited), None))


@pytest.mark.parametrize(("key", "caught"), [(None, False), (b"k1", True)], ids=["sha", "hmac"])
def test_verify_event_catches_a_rehash_only_with_a_key(
    kind: Kind, key: bytes | None, caught: bool
) -> None:
    store = kind.make(key=key)
    fill(store, 3)
    kind.tamper(store, 3, _forge_plain)
    forged = store.read_all()[2]
    assert forged.data == {"amount": 1_000_000}
    assert store.verify_event(forged) is not caught
    assert store.verify().ok is not caught
