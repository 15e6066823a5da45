"""The verifiable log's algorithms: RFC 9162 hashing and proofs, C2SP notes, event hashes.

Pure (no files): the tree is `InMemoryProofStore`, the verifier is the vendorable
module `store.proofs.verifier`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.clock import StepClock
from domain.envelope import Metadata, NewEvent, StreamAppend
from store.hashchain import canonical_json as stored_json
from store.memory import InMemoryEventStore
from store.proofs import tree
from store.proofs.bundle_check import check_bundle
from store.proofs.bundles import (
    consistency_bundle,
    inclusion_bundle,
    issue_checkpoint,
    tlog_proof,
)
from store.proofs.keys import generate, parse_signing_key
from store.proofs.memory_log import InMemoryProofStore
from store.proofs.verifier import (
    EMPTY_ROOT,
    MalformedProof,
    ProofFailed,
    canonical_json,
    event_chain_hash,
    leaf_hash,
    node_hash,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
    verify_note,
)

# -- reference: RFC 9162 §2.1 written as recursion over the leaf list ------------------------


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*rfc_path(m, leaves[:k]), mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), mth(leaves[:k])]


def rfc_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*rfc_subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*rfc_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def chain_hashes(n: int) -> list[str]:
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]


def tree_of(hashes: list[str]) -> InMemoryProofStore:
    log = InMemoryProofStore()
    rows = [(i + 1, *([None] * 10), h) for i, h in enumerate(hashes)]
    # Append in uneven batches, as appends and bulk loads do.
    start = 0
    step = 1
    while start < len(rows):
        log.extend(rows[start : start + step])
        start += step
        step = step % 5 + 1
    return log


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# -- known answers ---------------------------------------------------------------------------


def test_roots_match_the_rfc_6962_test_vectors() -> None:
    data = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
    data.append("606162636465666768696a6b6c6d6e6f")
    leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(d)).digest() for d in data]
    expected = {
        1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    }
    for size, root in expected.items():
        assert root_from_leaves(leaves[:size]).hex() == root
        assert mth(leaves[:size]).hex() == root
    assert root_from_leaves([]) == hashlib.sha256(b"").digest()


def test_the_c2sp_signed_note_example_verifies() -> None:
    key = parse_verifier_key(
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    )
    note = parse_note(
        "This is an example message.\n\n"
        "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYj"
        "OBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
    )
    verify_note(note, key)
    forged = parse_note(note.text.replace("example", "exemplary") + "\n" + _sig_block(note))
    with pytest.raises(ProofFailed):
        verify_note(forged, key)


def _sig_block(note: Any) -> str:
    sig = note.signatures[0]
    encoded = base64.b64encode(sig.key_id + sig.signature).decode()
    return f"\u2014 {sig.name} {encoded}\n"


# -- the tree against the reference ---------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=1, max_value=70), data=st.data())
def test_every_inclusion_proof_verifies_and_matches_the_rfc(n: int, data: st.DataObject) -> None:
    hashes = chain_hashes(n)
    log = tree_of(hashes)
    leaves = [leaf_hash(h) for h in hashes]
    size = data.draw(st.integers(min_value=1, max_value=n))
    root = log.root(size)
    assert root == mth(leaves[:size]) == root_from_leaves(leaves[:size])
    for index in range(size):
        path = log.inclusion_path(index, size)
        assert path == rfc_path(index, leaves[:size])
        verify_inclusion(leaves[index], index, size, path, root)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=1, max_value=70), data=st.data())
def test_every_consistency_proof_verifies_and_matches_the_rfc(n: int, data: st.DataObject) -> None:
    hashes = chain_hashes(n)
    log = tree_of(hashes)
    leaves = [leaf_hash(h) for h in hashes]
    new = data.draw(st.integers(min_value=0, max_value=n))
    for old in range(new + 1):
        path = log.consistency_path(old, new)
        if 0 < old < new:
            assert path == rfc_subproof(old, leaves[:new], True)
        verify_consistency(old, new, log.root(old), log.root(new), path)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=2, max_value=40), data=st.data())
def test_flipping_any_bit_of_a_path_or_root_fails(n: int, data: st.DataObject) -> None:
    hashes = chain_hashes(n)
    log = tree_of(hashes)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    leaf = leaf_hash(hashes[index])
    path = log.inclusion_path(index, n)
    root = log.root(n)
    bit = data.draw(st.integers(min_value=0, max_value=255))
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, index, n, path, flip(root, bit))
    with pytest.raises(ProofFailed):
        verify_inclusion(flip(leaf, bit), index, n, path, root)
    which = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
    bad = [*path[:which], flip(path[which], bit), *path[which + 1 :]]
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, index, n, bad, root)
    old = data.draw(st.integers(min_value=1, max_value=n - 1))
    consistency = log.consistency_path(old, n)
    with pytest.raises(ProofFailed):
        verify_consistency(old, n, flip(log.root(old), bit), root, consistency)
    with pytest.raises(ProofFailed):
        verify_consistency(old, n, log.root(old), flip(root, bit), consistency)
    which = data.draw(st.integers(min_value=0, max_value=len(consistency) - 1))
    bad = [*consistency[:which], flip(consistency[which], bit), *consistency[which + 1 :]]
    with pytest.raises(ProofFailed):
        verify_consistency(old, n, log.root(old), root, bad)


def test_proofs_of_the_wrong_length_or_shape_fail() -> None:
    hashes = chain_hashes(11)
    log = tree_of(hashes)
    path = log.inclusion_path(3, 11)
    leaf, root = leaf_hash(hashes[3]), log.root(11)
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, 3, 11, path[:-1], root)
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, 3, 11, [*path, path[0]], root)
    with pytest.raises(ProofFailed):
        verify_inclusion(leaf, 11, 11, path, root)
    with pytest.raises(MalformedProof):
        verify_inclusion(leaf, 3, 11, [p[:31] for p in path], root)
    with pytest.raises(ProofFailed):
        verify_consistency(5, 11, log.root(5), root, [])
    with pytest.raises(ProofFailed):
        verify_consistency(11, 5, root, log.root(5), [])


# -- the event's chain hash, recomputed from its export ----------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_the_verifier_writes_json_byte_for_byte_as_the_store(value: Any) -> None:
    assert canonical_json(value) == stored_json(value)
    row = [7, "é\u2028", stored_json(value), stored_json({"k": value})]
    assert canonical_json(row, sort_keys=False).encode() == orjson.dumps(row)


@settings(max_examples=40, deadline=None)
@given(data=st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_an_exported_event_rehashes_to_its_chain_hash(data: dict[str, Any]) -> None:
    for key in (None, b"secret"):
        store = InMemoryEventStore(clock=StepClock(), key=key)
        result = store.append(
            [StreamAppend("s-1", "s", 0, (NewEvent("Happened", data, event_id="e1"),))],
            Metadata("ann", "c1", "do"),
        )
        exported = json.loads(orjson.dumps(result.events[0].to_json_dict()))
        assert event_chain_hash(exported, key) == exported["hash"]


# -- checkpoints, notes and bundles ------------------------------------------------------------


def _store(n: int) -> InMemoryEventStore:
    store = InMemoryEventStore(clock=StepClock())
    for i in range(n):
        store.append(
            [StreamAppend(f"s-{i}", "s", 0, (NewEvent("Happened", {"i": i}, event_id=f"e{i}"),))],
            Metadata("ann", f"c{i}", "do"),
        )
    return store


def _bundle(store: InMemoryEventStore, position: int, signer: Any) -> dict[str, Any]:
    kept = issue_checkpoint(
        store.proofs, store.head().position, origin="test/log", signer=signer, issued_at="t"
    )
    event = store.read_all(after=position - 1, to=position)[0]
    path = store.proofs.inclusion_path(position - 1, kept.size)
    return inclusion_bundle(event, store.hash_mode, path, kept)


def test_a_signed_inclusion_bundle_verifies_in_json_and_tlog_proof_form() -> None:
    store = _store(13)
    key = generate("test/log")
    assert parse_signing_key(key.signer_text()).verifier == key.verifier
    bundle = _bundle(store, 6, key)
    for text in (json.dumps(bundle), tlog_proof(bundle)):
        report = check_bundle(text, key.verifier)
        assert report.kind == "inclusion"
        assert any("signature by test/log ok" in line for line in report.lines)
    other = generate("test/log")
    with pytest.raises(ProofFailed):
        check_bundle(json.dumps(bundle), other.verifier)
    assert store.proofs.checkpoints()[-1].text == bundle["checkpoint"]


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_changing_any_part_of_a_bundle_fails(data: st.DataObject) -> None:
    store = _store(9)
    key = generate("test/log")
    bundle = _bundle(store, data.draw(st.integers(min_value=1, max_value=9)), key)
    part = data.draw(st.sampled_from(["event", "path", "root", "signature"]))
    changed = json.loads(json.dumps(bundle))
    if part == "event":
        name = data.draw(st.sampled_from(["event_id", "stream_id", "type", "recorded_at"]))
        text = changed["event"][name]
        changed["event"][name] = text[:-1] + chr(ord(text[-1]) ^ 1)
    elif part == "path":
        which = data.draw(st.integers(min_value=0, max_value=len(changed["inclusion_path"]) - 1))
        raw = bytes.fromhex(changed["inclusion_path"][which])
        bit = data.draw(st.integers(min_value=0, max_value=255))
        changed["inclusion_path"][which] = flip(raw, bit).hex()
    else:
        origin, size, root, blank, sig_line, _ = changed["checkpoint"].split("\n")
        if part == "root":
            raw = flip(base64.b64decode(root), data.draw(st.integers(0, 255)))
            root = base64.b64encode(raw).decode()
        else:
            name, encoded = sig_line[2:].split(" ")
            raw = flip(base64.b64decode(encoded), data.draw(st.integers(32, 64 * 8 + 31)))
            sig_line = f"\u2014 {name} {base64.b64encode(raw).decode()}"
        changed["checkpoint"] = "\n".join([origin, size, root, blank, sig_line, ""])
    with pytest.raises((ProofFailed, MalformedProof)):
        check_bundle(json.dumps(changed), key.verifier)


def test_a_consistency_bundle_verifies_and_a_rewritten_history_does_not() -> None:
    store = _store(20)
    key = generate("test/log")
    old = issue_checkpoint(store.proofs, 7, origin="test/log", signer=key, issued_at="t")
    new = issue_checkpoint(store.proofs, 20, origin="test/log", signer=key, issued_at="t")
    bundle = consistency_bundle(old.text, new, store.proofs.consistency_path(7, 20))
    assert check_bundle(json.dumps(bundle), key.verifier).kind == "consistency"
    other = _store(6)
    other.append(
        [StreamAppend("x", "s", 0, (NewEvent("Other", {}, event_id="ex"),))],
        Metadata("ann", "cx", "do"),
    )
    forged = issue_checkpoint(other.proofs, 7, origin="test/log", signer=key, issued_at="t")
    bundle["old_checkpoint"] = forged.text
    with pytest.raises(ProofFailed):
        check_bundle(json.dumps(bundle), key.verifier)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", MalformedProof),
        ("{", MalformedProof),
        ("[]", MalformedProof),
        ('{"format": "eventscope/inclusion-proof@v1"}', MalformedProof),
        ('{"format": "other"}', MalformedProof),
        ("c2sp.org/tlog-proof@v1\nindex 3\n\nlog\n1\nAAAA\n", MalformedProof),
    ],
)
def test_malformed_bundles_are_named_as_such(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_bundle(text)


def test_checkpoints_and_keys_refuse_malformed_text() -> None:
    with pytest.raises(MalformedProof):
        parse_checkpoint("log\n01\n" + base64.b64encode(bytes(32)).decode() + "\n")
    with pytest.raises(MalformedProof):
        parse_checkpoint("log\n1\nAAAA\n")
    with pytest.raises(MalformedProof):
        parse_checkpoint("log\n1\n")
    with pytest.raises(MalformedProof):
        parse_checkpoint("log\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n\u2014 k !!!\n")
    with pytest.raises(MalformedProof):
        parse_verifier_key("name+0000000+AAAA")
    key = generate("a/b")
    text = str(key.verifier)
    with pytest.raises(MalformedProof):
        parse_verifier_key("c/d" + text[3:])
    assert parse_verifier_key(text) == key.verifier


def test_block_decomposition_covers_a_range_with_full_subtrees() -> None:
    assert tree.blocks(8, 13) == [(2, 2), (0, 12)]
    assert tree.blocks(0, 8) == [(3, 0)]
    assert tree.inclusion_ranges(2, 5) == [(3, 4), (0, 2), (4, 5)]


def test_the_worked_example_in_docs_proofs_md_verifies() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "proofs.md").read_text()
    key = parse_verifier_key(
        "example.com/bank+ce71178d+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
    )
    assert str(key) in doc
    start = doc.index("```\neventscope/bank.db\n5\n") + 4
    checkpoint = parse_checkpoint(doc[start : doc.index("```", start)])
    assert checkpoint.note is not None
    verify_note(checkpoint.note, key)
    path = [
        bytes.fromhex(h)
        for h in (
            "2a26cecadc34b4982d65a785cad4f39d7503763043490c5fa10445fa131f2b75",
            "30fc52c2ea938f2d4722658d8b961052469093895c96f92ce95a4c98a585e46c",
            "b97b02b4ab7fd7f20b78f12f1f536951f140a3816f86f70e4ca489892bafc582",
        )
    ]
    chain = "d4552476572bc6dfd1d8304276cd75dadfd78c54c184c9f2cf1bd393963e6458"
    assert all(p.hex() in doc for p in path) and chain in doc
    verify_inclusion(leaf_hash(chain), 2, 5, path, checkpoint.root)
