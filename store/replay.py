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


def select_events(fields: frozenset[str] = EVENT_FIELDS) -> str:
    """The SELECT of `FoldRow`s after a position (parameters: after, limit), with only
    `fields` read and every other column a NULL (position, type, schema version and
    data are always read)."""
    wanted = fields | _ALWAYS
    columns = ", ".join(c if c in wanted else "NULL" for c in FOLD_COLUMNS)
    return f"SELECT {columns} FROM events WHERE position > ? ORDER BY position LIMIT ?"


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
) -> None:
    """Fold `SELECT_EVENTS` rows into `states`; with `changed`, collect touched row keys.

    `reads` is what the projections read of an event (`combined_reads`): metadata is
    decoded and checked only when they read it, and an old schema version is upcast
    only for the types whose upcast they read (a version newer than the catalog's
    still goes through the catalog, which refuses it). Fields they do not read may
    be None in `rows` (`select_events`).

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
            data_text = row[7]
            if data_text != last_data_text:
                data = loads(data_text)
                last_data_text = data_text
            kind = row[5]
            schema_version = row[6]
            current = versions_get(kind, schema_version)
            if current != schema_version and (
                upcast_all or kind in upcast_types or schema_version > current
            ):
                data = upcast(kind, schema_version, data)
                last_data_text = None  # the upcast copy is not what the text decodes to
            if read_metadata:
                meta_text = row[8]
                if meta_text != last_meta_text:
                    metadata = loads(meta_text)
                    last_meta_text = meta_text
                    if not metadata_is_text(metadata):
                        check_metadata(metadata)  # raises, naming the bad field
            else:
                metadata = _NO_METADATA
            event = make(
                row[0], row[1], row[2], row[3], row[4], kind, schema_version,
                data, metadata, row[9], row[10], row[11],
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
        failure = ProjectionFailed(row[0], row[5], name if decoded else None, exc)
        index = next(i for i, r in enumerate(rows) if r is row)
        raise FoldFailure(index, failure) from exc
