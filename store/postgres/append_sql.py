"""The two statements an append sends before it writes (store/postgres/writes.py): the
append lock, skipped when the append is already known to be stale, and the one read
of everything the append must know, both in the first of its two round trips."""

from __future__ import annotations

APPEND_LOCK = 0x45565343_00000002
"""The advisory lock every append, load, import and refusal holds to its commit."""

CHANNEL = "eventscope_changes"
"""The LISTEN/NOTIFY channel each write transaction notifies on commit."""

SITUATION = (
    # All an append must know, read in one round trip under the lock: an earlier result
    # of this command id, the head, each stream's version (JSON: {stream: version}), and
    # the Merkle tree's right edge at the head (JSON: [[level, index, hex hash], ...]: the
    # full subtrees (b, (head >> b) - 1) for each bit b >= 1 set in head), the only
    # stored nodes that growing the tree can need.
    "SELECT c.first_position, h.position, h.hash, h.recorded_at, "
    "(SELECT json_object_agg(stream_id, version) FROM (SELECT stream_id, max(version) "
    "AS version FROM events WHERE stream_id = ANY(%s) GROUP BY stream_id) s), "
    "(SELECT json_agg(json_build_array(m.level, m.idx, encode(m.hash, 'hex'))) "
    "FROM generate_series(1, 62) b JOIN merkle_nodes m "
    "ON m.level = b AND m.idx = (h.position >> b) - 1 WHERE (h.position >> b) & 1 = 1), "
    # When the lock was granted (this runs right after it): `last_lock_grant`.
    "extract(epoch FROM clock_timestamp())::float8 "
    "FROM (SELECT 1) one LEFT JOIN commands c ON c.command_id = %s "
    "LEFT JOIN LATERAL (SELECT position, hash, recorded_at FROM events "
    "ORDER BY position DESC LIMIT 1) h ON true"
)
STALE_OR_LOCK = (
    # The append lock, taken only when the append is not already known to be stale: a
    # writer whose expected versions are behind learns it from the read that follows
    # without queueing behind every other writer for the lock (its retry will queue). A
    # known command id always takes the lock (its earlier result is returned under it).
    # 1 when the lock was taken, 0 when not; the read after it checks again under the
    # lock, so skipping this test would change nothing but the wait.
    "SELECT count(pg_advisory_xact_lock(%s)) FROM (SELECT 1) one WHERE NOT EXISTS ("
    "SELECT 1 FROM unnest(%s::text[], %s::bigint[]) AS e(stream_id, expected) "
    "WHERE coalesce((SELECT max(version) FROM events v WHERE v.stream_id = e.stream_id), 0) "
    "<> e.expected) OR EXISTS (SELECT 1 FROM commands WHERE command_id = %s)"
)
