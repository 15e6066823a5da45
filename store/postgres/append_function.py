"""The append as one server-side call: `eventscope_append`, installed by migration 3.

An unkeyed append (`SHA-256` chain) sends everything that does not depend on the head
in one statement, `SELECT * FROM eventscope_append(...)`, run in its own (autocommit)
transaction. The function takes the append lock, reads the head, hashes each event
with PostgreSQL's `sha256()`, inserts the events, grows the Merkle tree, records the
commands row, bumps the change token and notifies; the commit follows. So the lock is
held for the function's own work and the commit's WAL flush, with no round trip to the
client and no client work inside it (the client path held it across a round trip and
the rows' hashing in Python: docs/postgres.md).

The hash is byte-identical to `store.hashchain`'s: the client sends each event's
canonical tail (`store.hashchain.canonical_tail`, everything after the position in the
canonical array), and the function hashes `prev_hash_hex ‖ '[' ‖ position ‖ tail`, which
is `canonical_row` of the same row. A keyed chain (HMAC) cannot send its key to the
server: it keeps the client path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, LiteralString

import psycopg

from domain.envelope import GENESIS_HASH, AppendResult, Metadata, NewEvent, StreamAppend
from domain.errors import InvalidInput
from store.hashchain import ChainRow, canonical_json, canonical_tail, event_from_row
from store.postgres.append_sql import APPEND_LOCK, CHANNEL

APPEND_FUNCTION = (
    """
CREATE OR REPLACE FUNCTION eventscope_append(
    a_lock bigint, a_command_id text, a_streams text[], a_expected bigint[],
    a_event_ids text[], a_event_streams text[], a_stream_types text[], a_versions bigint[],
    a_types text[], a_schema_versions integer[], a_data text[], a_tails bytea[],
    a_metadata text, a_recorded_at text, a_command_type text, a_payload text,
    a_actor text, a_channel text,
    OUT o_outcome text, OUT o_first bigint, OUT o_hashes text[], OUT o_versions json,
    OUT o_locked_at double precision
) LANGUAGE plpgsql AS $fn$
DECLARE
    n integer := coalesce(array_length(a_event_ids, 1), 0);
    pos bigint;
    prev text;
    h text;
    node bytea;
    left_node bytea;
    lvl integer;
    ix bigint;
    token bigint;
BEGIN
    -- A VOLATILE function takes a new snapshot for each statement (READ COMMITTED), so
    -- every read after the lock sees every append committed before it was granted.
    IF a_command_id = '' OR NOT EXISTS (
        SELECT 1 FROM commands c WHERE c.command_id = a_command_id
    ) THEN
        -- Stale before the lock: a conflict, found without queueing behind every other
        -- writer (versions only grow, so it still holds); nothing is written.
        IF eventscope_stale(a_streams, a_expected) THEN
            o_outcome := 'conflict';
            o_versions := eventscope_versions(a_streams);
            RETURN;
        END IF;
    END IF;
    PERFORM pg_advisory_xact_lock(a_lock);
    o_locked_at := extract(epoch FROM clock_timestamp());
    IF a_command_id <> '' AND EXISTS (
        SELECT 1 FROM commands c WHERE c.command_id = a_command_id
    ) THEN
        o_outcome := 'duplicate';
        RETURN;
    END IF;
    IF eventscope_stale(a_streams, a_expected) THEN
        o_outcome := 'conflict';
        o_versions := eventscope_versions(a_streams);
        RETURN;
    END IF;
    SELECT e.position, e.hash INTO pos, prev FROM events e ORDER BY e.position DESC LIMIT 1;
    IF NOT FOUND THEN
        pos := 0;
        prev := '"""
    + GENESIS_HASH
    + """';
    END IF;
    o_first := pos + 1;
    o_hashes := ARRAY[prev];
    FOR i IN 1 .. n LOOP
        pos := pos + 1;
        h := encode(sha256(convert_to(prev || '[' || pos::text, 'UTF8') || a_tails[i]), 'hex');
        INSERT INTO events (position, event_id, stream_id, stream_type, version, type,
            schema_version, recorded_at, data, metadata, prev_hash, hash)
        VALUES (pos, a_event_ids[i], a_event_streams[i], a_stream_types[i], a_versions[i],
            a_types[i], a_schema_versions[i], a_recorded_at, a_data[i], a_metadata, prev, h);
        -- The Merkle tree (store/proofs/tree.py): leaf SHA-256(0x00 ‖ chain hash), node
        -- SHA-256(0x01 ‖ left ‖ right); each full subtree the new leaf completes is kept.
        node := sha256(decode('00', 'hex') || decode(h, 'hex'));
        ix := pos - 1;
        lvl := 0;
        WHILE mod(ix, 2) = 1 LOOP
            IF lvl = 0 THEN
                left_node := sha256(decode('00', 'hex') || decode(prev, 'hex'));
            ELSE
                SELECT m.hash INTO STRICT left_node FROM merkle_nodes m
                WHERE m.level = lvl AND m.idx = ix - 1;
            END IF;
            node := sha256(decode('01', 'hex') || left_node || node);
            lvl := lvl + 1;
            ix := ix / 2;
            INSERT INTO merkle_nodes (level, idx, hash) VALUES (lvl, ix, node);
        END LOOP;
        o_hashes := o_hashes || h;
        prev := h;
    END LOOP;
    IF a_command_id <> '' THEN
        INSERT INTO commands (command_id, command_type, payload, actor, recorded_at,
            first_position, last_position)
        VALUES (a_command_id, a_command_type, a_payload, a_actor, a_recorded_at,
            CASE WHEN n > 0 THEN o_first ELSE 0 END, CASE WHEN n > 0 THEN pos ELSE 0 END);
    END IF;
    UPDATE changes SET version = version + 1 WHERE id = 1 RETURNING version INTO token;
    PERFORM pg_notify(a_channel, token::text);
    o_outcome := 'ok';
END
$fn$"""
)
"""The append function (migration 3). SECURITY INVOKER (the default): it runs with the
caller's privileges, so a writer role needs INSERT on the audit tables as before, and a
read-only session is refused by the server at its first INSERT."""

STALE_FUNCTION = """
CREATE OR REPLACE FUNCTION eventscope_stale(a_streams text[], a_expected bigint[])
RETURNS boolean LANGUAGE sql VOLATILE AS $fn$
    SELECT EXISTS (
        SELECT 1 FROM unnest(a_streams, a_expected) AS e(stream_id, expected)
        WHERE coalesce((SELECT max(v.version) FROM events v WHERE v.stream_id = e.stream_id), 0)
            <> e.expected
    )
$fn$"""
"""True when any stream's version differs from the version the decision read."""

VERSIONS_FUNCTION = """
CREATE OR REPLACE FUNCTION eventscope_versions(a_streams text[])
RETURNS json LANGUAGE sql VOLATILE AS $fn$
    SELECT json_object_agg(stream_id, version) FROM (
        SELECT stream_id, max(version) AS version FROM events
        WHERE stream_id = ANY(a_streams) GROUP BY stream_id
    ) s
$fn$"""
"""Each stream's current version ({stream: version}; streams without events left out)."""

FUNCTIONS = ("eventscope_append", "eventscope_stale", "eventscope_versions")
"""The functions a writer role must be able to execute (store/postgres/privileges.py)."""

_CALL = (
    # The five outputs, then when the server received the statement (`statement_timestamp`):
    # the lock's grant minus that is how long this append waited for the lock.
    "SELECT o_outcome, o_first, o_hashes, o_versions, o_locked_at, "
    "extract(epoch FROM statement_timestamp())::float8 FROM eventscope_append("
    "%s, %s, %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[], "
    "%s::text[], %s::integer[], %s::text[], %s::bytea[], %s, %s, %s, %s, %s, %s)"
)


@dataclass(frozen=True)
class ServerOutcome:
    """What `eventscope_append` did: `ok` (with the rows written), `conflict` (with
    each stream's version), or `duplicate` (the command id is already recorded)."""

    outcome: str
    result: AppendResult
    """The result (events written; none unless `ok`)."""
    versions: dict[str, int]
    locked_at: float | None
    """The server's clock when the lock was granted (epoch seconds), or None."""
    waited: float | None = None
    """How long a plain append waited for the lock (s; None: not measured)."""


def append_on_server(
    conn: psycopg.Connection,
    streams: Sequence[StreamAppend],
    metadata: Metadata,
    texts: Sequence[tuple[StreamAppend, NewEvent, str]],
    metadata_text: str,
    recorded_at: str,
) -> ServerOutcome:
    """Append in one statement (one round trip); the caller holds no transaction open.

    Every event's version is its stream's expected version plus its place in the
    stream: the function refuses the append (`conflict`) unless each expected version
    is current under the lock, so those versions are the ones the server would assign.
    """
    done, row = call_append(conn, _CALL, streams, metadata, texts, metadata_text, recorded_at)
    if done.locked_at is None or row[5] is None:
        return done
    return replace(done, waited=max(0.0, done.locked_at - row[5]))


def call_append(
    conn: psycopg.Connection,
    statement: LiteralString,
    streams: Sequence[StreamAppend],
    metadata: Metadata,
    texts: Sequence[tuple[StreamAppend, NewEvent, str]],
    metadata_text: str,
    recorded_at: str,
) -> tuple[ServerOutcome, tuple[Any, ...]]:
    """Run `statement` (a call taking `eventscope_append`'s eighteen arguments, whose
    row starts with its five outputs): the outcome, and the whole row."""
    params, columns = append_arguments(streams, metadata, texts, metadata_text, recorded_at)
    row = conn.execute(statement, params).fetchone()
    assert row is not None  # one row, always
    return server_outcome(row, columns, metadata.command_id or ""), tuple(row)


def append_arguments(
    streams: Sequence[StreamAppend],
    metadata: Metadata,
    texts: Sequence[tuple[StreamAppend, NewEvent, str]],
    metadata_text: str,
    recorded_at: str,
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The eighteen arguments of `eventscope_append` for this append, and each event's
    nine canonical columns after its position (to rebuild the rows from the result)."""
    if len({event.event_id for _, event, _ in texts}) != len(texts):
        raise InvalidInput("an event id in this append is already recorded")
    # Each event's nine canonical columns after its position (a ChainRow's [1:10]).
    columns: list[tuple[Any, ...]] = []
    placed: dict[str, int] = {}
    for append, event, data_text in texts:
        version = placed.get(append.stream_id, append.expected_version) + 1
        placed[append.stream_id] = version
        columns.append(
            (event.event_id, append.stream_id, append.stream_type, version, event.type,
             event.schema_version, recorded_at, data_text, metadata_text)
        )  # fmt: skip
    by_column = list(zip(*columns, strict=True)) if columns else [()] * 9
    command_id = metadata.command_id or ""
    payload_text = canonical_json(metadata.command, "command") if command_id else None
    params: tuple[Any, ...] = (
        APPEND_LOCK,
        command_id,
        [a.stream_id for a in streams],
        [a.expected_version for a in streams],
        # event ids, streams, stream types, versions, types, schema versions, data (the
        # time and the metadata text are one value for all, sent once).
        *(list(by_column[k]) for k in (0, 1, 2, 3, 4, 5, 7)),
        [canonical_tail(*c) for c in columns],
        metadata_text,
        recorded_at,
        metadata.command_type,
        payload_text,
        metadata.actor,
        CHANNEL,
    )
    return params, columns


def server_outcome(
    row: Sequence[Any], columns: list[tuple[Any, ...]], command_id: str
) -> ServerOutcome:
    """The outcome of `row` (outcome, first position, hashes, versions, lock time), the
    first five outputs of `eventscope_append` and of the shared-commit procedure."""
    outcome, first, hashes, found, locked_at = row[:5]
    if outcome != "ok":
        versions_found = {k: int(v) for k, v in (found or {}).items()}
        return ServerOutcome(outcome, AppendResult(command_id, (), ()), versions_found, locked_at)
    rows: list[ChainRow] = [
        (first + i, *c, hashes[i], hashes[i + 1]) for i, c in enumerate(columns)
    ]
    events = tuple(event_from_row(row) for row in rows)
    result = AppendResult(command_id, tuple(row[0] for row in rows), events)
    return ServerOutcome("ok", result, {}, locked_at)
