"""Folding stored event rows into projection states, fast: the projector's hot loop.

A rebuild runs every projection over every event, so the per-event cost outside the
folds matters: events are built straight from `SELECT_EVENTS` rows, `data` and
`metadata` are decoded with orjson (what is stored was validated when it was
written) and upcast only when their schema version is not the current one, and
consecutive identical JSON texts (the metadata of one command's events, the two
halves of a transfer) are decoded once and shared, since projections never mutate
events.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from domain.envelope import RecordedEvent
from domain.fold_failure import ProjectionFailed
from domain.history_check import check_metadata, metadata_is_text
from domain.model import EventCatalog
from domain.projection import ALL_EVENT_READS, EVENT_FIELDS, EventReads, Projection, StateMap

FOLD_COLUMNS: Final = (
    "position", "event_id", "stream_id", "stream_type", "version", "type",
    "schema_version", "data", "metadata", "recorded_at", "prev_hash", "hash",
)  # fmt: skip
"""The fields of a `FoldRow`, in order (the `RecordedEvent` fields)."""
_ALWAYS: Final = frozenset(("position", "type", "schema_version", "data"))


def selected_columns(fields: frozenset[str] = EVENT_FIELDS) -> tuple[str, ...]:
    """The columns a `FoldRow` read for `fields` holds, in `FOLD_COLUMNS` order
    (position, type, schema version and data are always read). Unless that is every
    column, such a row ends with one NULL, which stands for every field not read."""
    wanted = fields | _ALWAYS
    return tuple(c for c in FOLD_COLUMNS if c in wanted)


@functools.cache
def select_events(fields: frozenset[str] = EVENT_FIELDS) -> str:
    """The SELECT of `FoldRow`s after a position (parameters: after, limit) reading only
    `fields` (`selected_columns`): a NULL per column costs as much as a short text, so
    the rows are narrow rather than NULL-padded."""
    columns = selected_columns(fields)
    listed = ", ".join(columns) + ("" if len(columns) == len(FOLD_COLUMNS) else ", NULL")
    return f"SELECT {listed} FROM events WHERE position > ? ORDER BY position LIMIT ?"


def _layout(selected: frozenset[str] | None) -> tuple[int, ...]:
    """Where each `RecordedEvent` field is in rows read for `selected` (None: whole rows)."""
    if selected is None:
        return tuple(range(len(FOLD_COLUMNS)))
    columns = selected_columns(selected)
    absent = len(columns)  # the trailing NULL (or nothing, when every column is read)
    return tuple(columns.index(c) if c in columns else absent for c in FOLD_COLUMNS)


SELECT_EVENTS: Final = select_events()
"""Parameters (after, limit): the rows `fold_rows` takes, in position order."""

_NO_METADATA: Final[dict[str, Any]] = {}
"""The metadata of events folded for projections that read none (never mutated)."""


class FoldFailure(Exception):
    """Where `fold_rows` stopped: the index of the failing row in its batch, and why."""

    def __init__(self, index: int, error: ProjectionFailed) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def fold_rows(
    rows: Sequence[Sequence[Any]],
    projections: Sequence[Projection],
    states: StateMap,
    catalog: EventCatalog,
    changed: Mapping[str, set[str]] | None = None,
    reads: EventReads = ALL_EVENT_READS,
    selected: frozenset[str] | None = None,
) -> None:
    """Fold `SELECT_EVENTS` rows into `states`; with `changed`, collect touched row keys.

    `reads` is what the projections read of an event (`combined_reads`): metadata is
    decoded and checked only when they read it, and an old schema version is upcast
    only for the types whose upcast they read (a version newer than the catalog's
    still goes through the catalog, which refuses it). `selected`: the rows were read
    with `select_events(selected)` (narrow; None: whole `SELECT_EVENTS` rows).

    Raises `FoldFailure` naming the row and the projection when anything raises.
    """
    loads = orjson.loads
    # Upcasting is needed only when a stored version is not the current one: one dict
    # lookup per event decides it.
    versions_get = {t: model.schema_version for t, model in catalog.types.items()}.get
    upcast = catalog.upcast
    upcast_all = "*" in reads.upcast
    upcast_types = reads.upcast
    read_metadata = "metadata" in reads.fields
    make = RecordedEvent
    (
        i_position, i_event_id, i_stream_id, i_stream_type, i_version, i_type,
        i_schema, i_data, i_metadata, i_recorded_at, i_prev_hash, i_hash,
    ) = _layout(selected)  # fmt: skip
    pairs = [(p.name, p.apply, states[p.name]) for p in projections]
    tracked = None if changed is None else [(n, a, s, changed[n]) for n, a, s in pairs]
    last_data_text = last_meta_text = None
    data: Any = None
    metadata: Any = None
    event: Any = None
    name: str | None = None
    row: Sequence[Any] = ()
    try:
        for row in rows:
            data_text = row[i_data]
            if data_text != last_data_text:
                data = loads(data_text)
                last_data_text = data_text
            kind = row[i_type]
            schema_version = row[i_schema]
            current = versions_get(kind, schema_version)
            if current != schema_version and (
                upcast_all or kind in upcast_types or schema_version > current
            ):
                data = upcast(kind, schema_version, data)
                last_data_text = None  # the upcast copy is not what the text decodes to
            if read_metadata:
                meta_text = row[i_metadata]
                if meta_text != last_meta_text:
                    metadata = loads(meta_text)
                    last_meta_text = meta_text
                    if not metadata_is_text(metadata):
                        check_metadata(metadata)  # raises, naming the bad field
            else:
                metadata = _NO_METADATA
            event = make(
                row[i_position], row[i_event_id], row[i_stream_id], row[i_stream_type],
                row[i_version], kind, schema_version, data, metadata, row[i_recorded_at],
                row[i_prev_hash], row[i_hash],
            )  # fmt: skip
            # `name` stays bound to the projection that raised, for the error.
            if tracked is None:
                for name, apply, state in pairs:  # noqa: B007
                    apply(state, event)
            else:
                for name, apply, state, keys in tracked:  # noqa: B007
                    touched = apply(state, event)
                    if touched:
                        keys.update(touched)
    except Exception as exc:
        # Decoding or upcasting failed when `event` is still the previous row's.
        decoded = event is not None and event.position == row[0]
        failure = ProjectionFailed(row[0], row[i_type], name if decoded else None, exc)
        index = next(i for i, r in enumerate(rows) if r is row)
        raise FoldFailure(index, failure) from exc
