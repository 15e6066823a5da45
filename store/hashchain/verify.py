"""Verifying the chain from position 1, one event, or against an anchor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from domain.envelope import GENESIS_HASH, Head, RecordedEvent
from domain.errors import InvalidInput
from store.hashchain.rows import (
    STORED_TIME,
    ChainRow,
    canonical_row,
    chain_hash,
    chain_row,
    digest_function,
    hash_mode,
    is_hash,
)

if TYPE_CHECKING:  # built in `verify` only: appending (`exec`) loads no port (start-up)
    from domain.ports import EventStore, VerifyReport

# -- verifying ---------------------------------------------------------------------------


def verify(rows: Iterable[ChainRow], key: bytes | None) -> VerifyReport:
    """Walk chain rows in position order and report the first problem, if any.

    Checks positions 1..N without gaps, versions 1..n per stream, each `prev_hash`
    link, each hash recomputed from the row, and each time's stored form (ASCII
    digits, `rows.STORED_TIME`). Times may go back (each event keeps
    its writer's clock; `domain.clock_skew` flags the skewed ones), so they are not
    checked for order: the hash covers them.
    Streams: memory stays bounded by the number of streams, not events.
    """
    from domain.ports import VerifyReport  # see the note on imports above

    digest = digest_function(key)
    dumps = orjson.dumps
    time_form = STORED_TIME.fullmatch
    mode = hash_mode(key)
    versions: dict[str, int] = {}
    expected = 1
    prev = GENESIS_HASH
    problem = ""
    bad: int | None = None
    for row in rows:
        position = row[0]
        if position != expected:
            bad = expected
            problem = (
                f"position {expected} is missing (the next stored event is at {position})"
                if position > expected
                else f"position {position} appears again after position {expected - 1}"
            )
            break
        stream_id = row[2]
        version = row[4]
        current = versions.get(stream_id, 0)
        if version != current + 1:
            bad = position
            problem = (
                f"stream {stream_id} jumps from version {current} to {version}"
                if version > current
                else f"stream {stream_id} repeats version {version}"
            )
            break
        if row[10] != prev:
            bad = position
            problem = f"prev_hash does not link to the hash of position {position - 1}"
            break
        computed = digest(prev.encode() + dumps(row[:10]))
        if computed != row[11]:
            bad = position
            problem = "hash does not match the event's contents (it was changed)"
            break
        if time_form(row[7]) is None:
            # Chained as written, yet not as eventscope writes it (an import before
            # the form took ASCII digits only): time searches would misplace it.
            bad = position
            problem = "recorded_at is not in the stored form 2026-01-31T09:00:00.000000Z"
            break
        versions[stream_id] = version
        prev = computed
        expected = position + 1
    checked = expected - 1
    return VerifyReport(
        ok=bad is None,
        checked=checked,
        head=Head(checked, prev),
        hash_mode=mode,
        first_bad_position=bad,
        problem=problem,
    )


def verify_events(events: Iterable[RecordedEvent], key: bytes | None) -> VerifyReport:
    """`verify` over decoded events (their data re-encoded canonically)."""
    return verify(map(chain_row, events), key)


def row_verifies(row: ChainRow, event: RecordedEvent, key: bytes | None) -> bool:
    """True when the stored `row` is `event`'s and still hashes to its hash.

    The hash is recomputed from the row's stored texts and its `prev_hash` with `key`
    (HMAC-SHA-256, or SHA-256 when None). It does not check the link to the event
    before: `verify` walks the links.
    """
    return (
        row[0] == event.position
        and row[1] == event.event_id
        and row[10] == event.prev_hash
        and row[11] == event.hash
        and chain_hash(row[10], canonical_row(row), key) == row[11]
    )


# -- anchors -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnchorReport:
    """Whether a head kept elsewhere is still part of the chain."""

    ok: bool
    anchor: Head
    head: Head
    problem: str = ""

    @property
    def message(self) -> str:
        """One line for a person."""
        if self.ok:
            return (
                f"anchor ok: position {self.anchor.position} is still in the chain "
                f"(head {self.head.position})"
            )
        return f"anchor check failed: {self.problem}"

    def to_json_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "ok": self.ok,
            "anchor": self.anchor.to_json_dict(),
            "head": self.head.to_json_dict(),
            "problem": self.problem,
        }


def check_anchor(store: EventStore, anchor: Head) -> AnchorReport:
    """Check that `anchor` (a head kept elsewhere) is still in the store's chain.

    Its position must not be past the head (else the tail was truncated) and the
    hash stored there must equal the anchor's (else history was rewritten). Run
    `verify` as well: this only proves the anchor's prefix is unchanged if the chain
    from 1 to the head also verifies.
    """
    head = store.head()
    if anchor.position == 0:
        if anchor.hash != GENESIS_HASH:
            problem = "an anchor at position 0 must carry the genesis hash"
            return AnchorReport(False, anchor, head, problem)
        return AnchorReport(True, anchor, head)
    if anchor.position > head.position:
        return AnchorReport(
            False,
            anchor,
            head,
            f"the chain ends at position {head.position} but the anchor is at "
            f"{anchor.position}: events were removed from the tail",
        )
    stored = store.read_all(after=anchor.position - 1, to=anchor.position)
    if not stored or stored[0].hash != anchor.hash:
        found = stored[0].hash if stored else "nothing"
        return AnchorReport(
            False,
            anchor,
            head,
            f"position {anchor.position} has hash {found}, the anchor says {anchor.hash}: "
            "history up to the anchor was rewritten",
        )
    return AnchorReport(True, anchor, head)


def parse_anchor(text: str) -> Head:
    """Read an anchor: `{"position": N, "hash": "..."}`, or a saved `verify --json` report.

    Raises InvalidInput naming what is wrong.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidInput(
            'the anchor is not JSON; expected {"position": N, "hash": "<64 hex digits>"}'
        ) from None
    if isinstance(value, dict) and isinstance(value.get("head"), dict):
        value = value["head"]
    if not isinstance(value, dict):
        raise InvalidInput('the anchor must be a JSON object {"position": N, "hash": "..."}')
    position = value.get("position")
    digest = value.get("hash")
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise InvalidInput("the anchor's position must be a whole number >= 0")
    if not isinstance(digest, str) or not is_hash(digest):
        raise InvalidInput("the anchor's hash must be 64 lowercase hex digits")
    return Head(position, digest)
