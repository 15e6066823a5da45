"""The SQLite store's SQL text and the conversions between rows and values.

Stored rows become events in one function, `store.hashchain.event_from_row`: every
query selects `CHAIN_COLUMNS`, the column order of a chain row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson

from domain.envelope import (
    Refusal,
)
from store.filters import is_glob
from store.hashchain import (
    ChainExtender,
    canonical_json,
)
from store.sqlite import schema

# Column order of a ChainRow (what is hashed, then the links).
CHAIN_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, type, schema_version, "
    "recorded_at, data, metadata, prev_hash, hash"
)
INSERT_EVENT = f"INSERT INTO events ({CHAIN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
INSERT_COMMAND = (
    "INSERT INTO commands (command_id, command_type, payload, actor, recorded_at, "
    "first_position, last_position) VALUES (?,?,?,?,?,?,?)"
)
INSERT_SIGNED_COMMAND = INSERT_COMMAND.replace(") VALUES (?", ", mac) VALUES (?,?")
HEAD = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
STREAM_VERSION = "SELECT max(version) FROM events WHERE stream_id = ?"
FIND_COMMAND = "SELECT first_position, last_position FROM commands WHERE command_id = ?"
# Spelled exactly as the expression indexes in store.sqlite.schema, so queries use them.
ACTOR = "json_extract(metadata, '$.actor')"
CORRELATION = "json_extract(metadata, '$.correlation_id')"
# The partial index `events_correlation` (schema step 6) leaves out the events whose
# correlation id is their own command id; those are the command's own events, found by
# the command's position range. The first half repeats the index's WHERE word for word
# so the planner may use it; UNION merges the two ordered halves without a sort.
BY_CORRELATION = (
    f"SELECT position FROM events WHERE {CORRELATION} = ?1 "
    f"AND ({schema.CORRELATION_INDEX_WHERE}) "
    "UNION "
    "SELECT position FROM events WHERE position BETWEEN "
    "(SELECT first_position FROM commands WHERE command_id = ?1) AND "
    "(SELECT last_position FROM commands WHERE command_id = ?1) "
    f"AND json_extract(metadata, '$.command_id') = ?1 AND {CORRELATION} = ?1 "
    "ORDER BY position LIMIT ?2"
)
# A command's events are adjacent, first_position..last_position (0..0 when it
# recorded none); the metadata test keeps the answer honest whatever the table says.
BY_COMMAND = (
    "SELECT position FROM events WHERE position BETWEEN "
    "(SELECT first_position FROM commands WHERE command_id = ?1) AND "
    "(SELECT last_position FROM commands WHERE command_id = ?1) "
    "AND json_extract(metadata, '$.command_id') = ?1 ORDER BY position"
)
BOOKMARKS = "SELECT name, position, actor, created_at FROM bookmarks ORDER BY position, name"
SET_BOOKMARK = (
    "INSERT INTO bookmarks (name, position, actor, created_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(name) DO UPDATE SET position = excluded.position, actor = excluded.actor, "
    "created_at = excluded.created_at"
)
LIKE_SPECIAL = re.compile(r"[\\%_]")
REFUSAL_COLUMNS = (
    "id, recorded_at, at_position, actor, command_id, command_type, command, reason, code"
)
REFUSAL_MARKS = "SELECT id, at_position, actor, recorded_at FROM refusals WHERE id > ? ORDER BY id"
REFUSAL_COUNT = "SELECT count(*) FROM refusals WHERE at_position <= ?"
EVERY_POSITION = 2**63 - 1
"""A `to_position` past any head (SQLite's and PostgreSQL's largest integer)."""
INSERT_REFUSAL = (
    "INSERT INTO refusals (recorded_at, at_position, actor, command_id, command_type, "
    "command, reason, code) VALUES (?,?,?,?,?,?,?,?)"
)


RefusalRow = tuple[str, int, str, str, str, str, str, str]


def refusal_from_row(row: Sequence[Any]) -> Refusal:
    return Refusal(
        id=row[0],
        recorded_at=row[1],
        at_position=row[2],
        actor=row[3],
        command_id=row[4],
        command_type=row[5],
        command=orjson.loads(row[6]),
        reason=row[7],
        code=row[8],
    )


_SITUATION_SQL: dict[int, str] = {}


def situation_sql(streams: int) -> str:
    """One statement reading all an append must know under the write lock.

    Columns: "first last" of an earlier command with this id (or NULL), "position hash
    recorded_at" of the head (or NULL), then each stream's version. One round trip,
    with the text columns concatenated, costs half of reading them separately; none
    of the values can contain a space.
    """
    sql = _SITUATION_SQL.get(streams)
    if sql is None:
        columns = [
            "(SELECT first_position || ' ' || last_position FROM commands WHERE command_id = ?1)",
            "(SELECT position || ' ' || hash || ' ' || recorded_at FROM events "
            "ORDER BY position DESC LIMIT 1)",
            *(
                f"(SELECT max(version) FROM events WHERE stream_id = ?{i + 2})"
                for i in range(streams)
            ),
        ]
        sql = _SITUATION_SQL[streams] = "SELECT " + ", ".join(columns)
    return sql


def refusal_row(
    refusal: Refusal, at_position: int, extender: ChainExtender | None = None
) -> RefusalRow:
    """The refusals row for `refusal` kept at `at_position`.

    In a bulk load a refusal without a time takes the previous event's.
    """
    recorded_at = refusal.recorded_at or (extender.last_recorded_at if extender else "")
    return (
        recorded_at,
        at_position,
        refusal.actor,
        refusal.command_id,
        refusal.command_type,
        canonical_json(refusal.command, "command"),
        refusal.reason,
        refusal.code,
    )


def exact_filters(
    stream: str | None, type_: str | None, actor: str | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if stream is not None:
        clauses.append("stream_id = ?")
        params.append(stream)
    if type_ is not None:
        clauses.append("type = ?")
        params.append(type_)
    if actor is not None:
        clauses.append(f"{ACTOR} = ?")
        params.append(actor)
    return " AND ".join(clauses), params


def filter_sql(
    stream: str | None, type_: str | None, actor: str | None, text: str | None
) -> tuple[list[str], list[Any]]:
    """WHERE clauses for `positions`: `=` for exact values (indexed), GLOB for patterns."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("stream_id", stream), ("type", type_), (ACTOR, actor)):
        if value is not None:
            clauses.append(f"{column} {'GLOB' if is_glob(value) else '='} ?")
            params.append(value)
    if text:
        # LIKE folds ASCII case only, as `store.filters` promises, and scans three
        # times faster than instr(lower(...)).
        needle = "%" + LIKE_SPECIAL.sub(r"\\\g<0>", text) + "%"
        clauses.append("(data LIKE ? ESCAPE '\\' OR metadata LIKE ? ESCAPE '\\')")
        params += [needle, needle]
    return clauses, params
