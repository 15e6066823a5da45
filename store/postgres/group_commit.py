"""Writers on PostgreSQL sharing one commit: flat combining through the append lock.

An unkeyed append outside a transaction is one `CALL eventscope_append_shared(...)`
(migration 4), with the arguments `eventscope_append` takes (append_function.py):

1. it tries the append lock, `pg_try_advisory_xact_lock(APPEND_LOCK)`; granted, with
   nothing queued, it appends as `eventscope_append` alone (main's path); granted with
   entries queued, this writer is the *combiner*: it appends its own entry, then every
   entry waiting in the queue, and commits them all together: one WAL flush;
2. refused (another writer holds the lock), it checks the expected versions (a stale
   append conflicts without queueing, as in the function); with nobody queued it waits
   for the lock, for up to `eventscope.lock_patience` ms (migration 5: `LOCK_PATIENCE_MS`
   by default), and, granted, goes on as in 1; when that runs out, or when it found a
   queue (whose combiner takes its entry too), it *enqueues* its arguments
   into the UNLOGGED table `eventscope_append_queue`, and commits that: a transaction
   that wrote only unlogged tables writes no WAL of its own, so its commit does not wait
   for a flush (docs/postgres.md: the figure);
3. it waits for the holder: `pg_advisory_xact_lock_shared(APPEND_LOCK)`, granted when the
   holder's transaction ends (after its flush); then it looks for its result in the
   UNLOGGED table `eventscope_append_results`, which the combiner wrote in the same
   transaction as the events (so a result is visible only once they are durable);
4. no result (it enqueued after the holder read the queue): it waits for the lock
   exclusively, and, granted, combines the queue itself (its own entry with it).

The combiner (`eventscope_combine`) takes the queue's entries in the order they were
enqueued, and appends each by calling `eventscope_append` itself, inside its own
subtransaction (a PL/pgSQL `BEGIN ... EXCEPTION` block): the same checks (duplicate
command id, stale versions, under the lock), the same hashes and tree, the same
commands row; an entry's conflict or error fails that entry only. Entries whose session
is gone (`pg_stat_get_activity`) are dropped, not appended. One procedure call is one round
trip for the writer, whichever role it plays.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from domain.envelope import Metadata, NewEvent, StreamAppend
from store.postgres.append_function import ServerOutcome, call_append

_ARGUMENTS = (
    ("a_lock", "bigint"),
    ("a_command_id", "text"),
    ("a_streams", "text[]"),
    ("a_expected", "bigint[]"),
    ("a_event_ids", "text[]"),
    ("a_event_streams", "text[]"),
    ("a_stream_types", "text[]"),
    ("a_versions", "bigint[]"),
    ("a_types", "text[]"),
    ("a_schema_versions", "integer[]"),
    ("a_data", "text[]"),
    ("a_tails", "bytea[]"),
    ("a_metadata", "text"),
    ("a_recorded_at", "text"),
    ("a_command_type", "text"),
    ("a_payload", "text"),
    ("a_actor", "text"),
    ("a_channel", "text"),
)
"""`eventscope_append`'s parameters, in order: the queue keeps one column for each."""

_DECLARED = ", ".join(f"{name} {kind}" for name, kind in _ARGUMENTS)
_NAMES = ", ".join(name for name, _ in _ARGUMENTS)
_FROM_ENTRY = ", ".join(f"q.{name}" for name, _ in _ARGUMENTS)

QUEUE_TABLES = ("eventscope_append_queue", "eventscope_append_results")
"""The two UNLOGGED tables of shared commits: a writer role needs to write both."""

TABLES = [
    # One row per waiting append; `ticket` names it, `pid` and `backend_start` its
    # session (dropped by the combiner when that session is gone).
    f"""CREATE UNLOGGED TABLE eventscope_append_queue (
        ticket text PRIMARY KEY,
        pid integer NOT NULL,
        backend_start timestamptz,
        enqueued_at timestamptz NOT NULL,
        {_DECLARED}
    )""",
    # The outcome of a queued append, written by the combiner in the transaction that
    # appended it; one row per session at most (a session waits for one append at a time),
    # deleted by its writer when read.
    """CREATE UNLOGGED TABLE eventscope_append_results (
        pid integer PRIMARY KEY,
        ticket text NOT NULL,
        outcome text NOT NULL,
        first_position bigint,
        hashes text[],
        versions json,
        locked_at double precision,
        batch integer,
        sqlstate text,
        message text
    )""",
]

COMBINE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION eventscope_combine(a_also integer)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    taken text[];
    entries eventscope_append_queue[];
    q eventscope_append_queue;
    v_outcome text;
    v_first bigint;
    v_hashes text[];
    v_versions json;
    v_locked_at double precision;
    failed_state text;
    failed_message text;
    n integer;
    done eventscope_append_results[] := '{{}}';
BEGIN
    -- The caller holds the append lock. One read of the queue: the entries committed
    -- before it, taken (deleted) whatever becomes of them.
    SELECT array_agg(e.ticket) INTO taken FROM eventscope_append_queue e;
    IF taken IS NULL THEN
        RETURN 0;
    END IF;
    SELECT array_agg(e ORDER BY e.enqueued_at, e.ticket) INTO entries
    FROM eventscope_append_queue e
    JOIN pg_stat_get_activity(NULL) a ON a.pid = e.pid
        AND (a.backend_start IS NULL OR a.backend_start = e.backend_start)
    WHERE e.ticket = ANY(taken);
    DELETE FROM eventscope_append_queue e WHERE e.ticket = ANY(taken);
    n := coalesce(cardinality(entries), 0);
    IF n = 0 THEN
        RETURN 0;
    END IF;
    FOREACH q IN ARRAY entries LOOP
        failed_state := NULL;
        failed_message := NULL;
        v_outcome := 'error';
        v_first := NULL;
        v_hashes := NULL;
        v_versions := NULL;
        v_locked_at := NULL;
        BEGIN  -- a subtransaction: this entry's failure undoes this entry only
            SELECT o_outcome, o_first, o_hashes, o_versions, o_locked_at
            INTO v_outcome, v_first, v_hashes, v_versions, v_locked_at
            FROM eventscope_append({_FROM_ENTRY});
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS failed_state = RETURNED_SQLSTATE,
                failed_message = MESSAGE_TEXT;
        END;
        done := done || ROW(q.pid, q.ticket, v_outcome, v_first, v_hashes, v_versions,
            v_locked_at, n + a_also, failed_state, failed_message)::eventscope_append_results;
    END LOOP;
    -- The results, set-based (migration 5): a row of a session's earlier append, which a
    -- writer that died after its entry was taken never read, is replaced.
    DELETE FROM eventscope_append_results x WHERE x.pid = ANY(
        SELECT d.pid FROM unnest(done) d);
    INSERT INTO eventscope_append_results SELECT * FROM unnest(done);
    RETURN n;
END
$fn$"""
"""Append every queued entry under the lock the caller holds; returns how many."""

LOCK_PATIENCE_MS = 0.0
"""How long a writer that finds the append lock taken, with nobody queued, waits for it
(as main's path does) before it queues its append for a combiner, when the database or
session sets no `eventscope.lock_patience` (ms). 0: queue at once, as migration 4 did:
20 ms cut the appends per commit from 7 to 5 and the rate by 10-30% at load 6-18
(README, run J); a quiet machine, where it should help, is not yet measured."""

SHARED_PROCEDURE = f"""
CREATE OR REPLACE PROCEDURE eventscope_append_shared(
    {_DECLARED},
    INOUT o_outcome text, INOUT o_first bigint, INOUT o_hashes text[],
    INOUT o_versions json, INOUT o_locked_at double precision, INOUT o_batch integer
) LANGUAGE plpgsql AS $pr$
DECLARE
    me integer := pg_backend_pid();
    my_ticket text;
    combined boolean := false;
    r eventscope_append_results;
    failed_state text;
    failed_message text;
    timed_out boolean;
    want_lock boolean := false;
    granted boolean := pg_try_advisory_xact_lock(a_lock);
    patience double precision;
    own_timeout text;
BEGIN
    IF NOT granted THEN
        -- Stale before the lock: a conflict, found without queueing (as eventscope_append).
        IF a_command_id = '' OR NOT EXISTS (
            SELECT 1 FROM commands c WHERE c.command_id = a_command_id
        ) THEN
            IF eventscope_stale(a_streams, a_expected) THEN
                o_outcome := 'conflict';
                o_versions := eventscope_versions(a_streams);
                RETURN;
            END IF;
        END IF;
        -- Patience (migration 5): with nobody queued, wait for the lock itself, as
        -- eventscope_append does, for up to `eventscope.lock_patience` ms; queue only
        -- when that runs out (or a queue exists: its combiner takes this entry too).
        own_timeout := current_setting('lock_timeout');
        patience := coalesce(nullif(current_setting('eventscope.lock_patience', true), ''),
            '{LOCK_PATIENCE_MS}')::double precision;
        IF patience > 0 AND NOT EXISTS (SELECT 1 FROM eventscope_append_queue) AND (
            own_timeout = '0'
            OR extract(epoch FROM own_timeout::interval) * 1000 > patience
        ) THEN
            BEGIN  -- a timeout undoes this block's SET LOCAL with it
                PERFORM set_config('lock_timeout', patience || 'ms', true);
                PERFORM pg_advisory_xact_lock(a_lock);
                PERFORM set_config('lock_timeout', own_timeout, true);
                granted := true;
            EXCEPTION WHEN lock_not_available THEN
                granted := false;
            END;
        END IF;
    END IF;
    IF granted THEN
        IF NOT EXISTS (SELECT 1 FROM eventscope_append_queue) THEN
            -- Alone: the append as main made it (a writer that queues from now on finds
            -- no result after this commit and combines its entry itself).
            SELECT f.o_outcome, f.o_first, f.o_hashes, f.o_versions, f.o_locked_at
            INTO o_outcome, o_first, o_hashes, o_versions, o_locked_at
            FROM eventscope_append({_NAMES}) f;
            o_batch := 1;
            RETURN;
        END IF;
        -- The combiner from the start: its own append, then the queue, one commit.
        BEGIN
            SELECT f.o_outcome, f.o_first, f.o_hashes, f.o_versions, f.o_locked_at
            INTO o_outcome, o_first, o_hashes, o_versions, o_locked_at
            FROM eventscope_append({_NAMES}) f;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS failed_state = RETURNED_SQLSTATE,
                failed_message = MESSAGE_TEXT;
        END;
        o_batch := 1 + eventscope_combine(1);
        COMMIT;
        IF failed_state IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = failed_state, MESSAGE = failed_message;
        END IF;
        RETURN;
    END IF;
    my_ticket := me::text || '-' || md5(random()::text || clock_timestamp()::text);
    INSERT INTO eventscope_append_queue
    SELECT my_ticket, me, (SELECT a.backend_start FROM pg_stat_get_activity(me) a),
        clock_timestamp(), {_NAMES};
    COMMIT;  -- unlogged rows only: no WAL flush to wait for
    LOOP
        -- A wait obeys the session's lock_timeout. When it runs out, the writer withdraws
        -- its entry and reports the timeout; if a combiner took the entry first (its
        -- transaction deleted it), the writer waits for that commit and reads its result,
        -- so a writer that gives up never leaves its append to land after it left.
        -- First the shared wait (the holder has committed), then, with no result yet,
        -- the exclusive one, to combine the queue itself.
        IF NOT combined THEN
            timed_out := false;
            BEGIN
                IF want_lock THEN
                    PERFORM pg_advisory_xact_lock(a_lock);
                ELSE
                    PERFORM pg_advisory_xact_lock_shared(a_lock);
                END IF;
            EXCEPTION WHEN lock_not_available THEN
                GET STACKED DIAGNOSTICS failed_message = MESSAGE_TEXT;
                timed_out := true;
            END;
            IF timed_out THEN
                PERFORM set_config('lock_timeout', '0', true);
                DELETE FROM eventscope_append_queue e WHERE e.ticket = my_ticket;
                IF FOUND THEN
                    COMMIT;
                    RAISE EXCEPTION USING ERRCODE = '55P03', MESSAGE = failed_message;
                END IF;
                PERFORM pg_advisory_xact_lock_shared(a_lock);  -- taken: wait for its commit
            ELSIF want_lock THEN
                PERFORM eventscope_combine(0);  -- this entry, unless another combiner took it
                COMMIT;
                combined := true;
            END IF;
        END IF;
        DELETE FROM eventscope_append_results x WHERE x.pid = me AND x.ticket = my_ticket
        RETURNING * INTO r;
        EXIT WHEN FOUND;
        IF combined THEN  -- it combined the queue itself: its result must be there
            RAISE EXCEPTION 'eventscope: the queued append % has no result', my_ticket;
        END IF;
        COMMIT;  -- lets the shared lock go
        want_lock := true;
    END LOOP;
    COMMIT;
    IF r.outcome = 'error' THEN
        RAISE EXCEPTION USING ERRCODE = r.sqlstate, MESSAGE = r.message;
    END IF;
    o_outcome := r.outcome;
    o_first := r.first_position;
    o_hashes := r.hashes;
    o_versions := r.versions;
    o_locked_at := r.locked_at;
    o_batch := r.batch;
END
$pr$"""
"""The append with a shared commit (one `CALL`, one round trip): see the module's text."""

ROUTINES = ("eventscope_combine", "eventscope_append_shared")
"""What a writer role must be able to execute for shared commits (privileges.py)."""

_CALL = (
    # The eighteen arguments (typed as `_ARGUMENTS`), then the six INOUT outputs.
    "CALL eventscope_append_shared("
    "%s::bigint, %s::text, %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], "
    "%s::bigint[], %s::text[], %s::integer[], %s::text[], %s::bytea[], %s::text, %s::text, "
    "%s::text, %s::text, %s::text, %s::text, NULL, NULL, NULL, NULL, NULL, NULL)"
)


def append_shared(
    conn: psycopg.Connection,
    streams: Sequence[StreamAppend],
    metadata: Metadata,
    texts: Sequence[tuple[StreamAppend, NewEvent, str]],
    metadata_text: str,
    recorded_at: str,
) -> tuple[ServerOutcome, int]:
    """Append through a shared commit: the outcome, and how many appends its commit
    held (0 for a conflict found before queueing). `conn` is in autocommit mode with no
    transaction open (the procedure commits inside)."""
    # CALL returns its INOUT parameters as one row.
    done, row = call_append(conn, _CALL, streams, metadata, texts, metadata_text, recorded_at)
    return done, int(row[5] or 0)
