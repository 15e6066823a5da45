"""`actor_activity`: per actor, with refusals overlaid at read time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.envelope import RecordedEvent
from domain.ledger.projections.common import (
    _count,
    _look_alike,
    _text,
    _time,
)
from domain.projection import Column, ProjectionState
from domain.refusals import RefusalTally
from domain.text import mixed_scripts

# --- actor_activity --------------------------------------------------------------------


class ActorActivity:
    """Per actor: commands that recorded events, events, refused commands, first/last seen.

    A command's events are appended in one transaction, so they sit at consecutive
    positions: a command is counted when an event's `command_id` differs from the
    previous event's. Refusals are not events: the fold leaves `refusals` at 0 and
    the timeline (or the projector) overlays them with `merge_refusals`, counting the
    refusals recorded while the head was at or before the position read; they also
    widen first/last seen. An actor who was only ever refused gets a row then.
    """

    name = "actor_activity"
    title = "Actors"
    key_title = "actor"
    version = 2  # 2: the look_alike column
    columns: Sequence[Column] = (
        Column("actor", "Actor", "text", _text),
        Column("look_alike", "Look-alike", "bool", _look_alike),
        Column("commands", "Commands", "int", _count),
        Column("events", "Events", "int", _count),
        Column("refusals", "Refusals", "int", _count),
        Column("first_seen", "First seen", "time", _time),
        Column("last_seen", "Last seen", "time", _time),
    )

    def initial(self) -> ProjectionState:
        """No actors; `aux["last_command"]` is the command id of the previous event."""
        return ProjectionState(aux={"last_command": None})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns its actor's row."""
        metadata = event.metadata
        actor = metadata.get("actor", "")
        at = event.recorded_at
        row = state.rows.get(actor)
        if row is None:
            row = state.rows[actor] = {
                "actor": actor,
                "commands": 0,
                "events": 0,
                "refusals": 0,
                "first_seen": at,
                "last_seen": at,
                "look_alike": mixed_scripts(actor),
            }
        command_id = metadata.get("command_id")
        aux = state.aux
        if command_id != aux["last_command"]:
            aux["last_command"] = command_id
            row["commands"] += 1
        row["events"] += 1
        row["last_seen"] = at
        return (actor,)

    def merge_refusals(
        self, state: ProjectionState, tallies: Mapping[str, RefusalTally]
    ) -> ProjectionState:
        """`state` with refusal counts and times overlaid (a new state; rows copied)."""
        if not tallies:
            return state
        rows = dict(state.rows)
        for actor, tally in tallies.items():
            row = rows.get(actor)
            if row is None:
                rows[actor] = {
                    "actor": actor,
                    "commands": 0,
                    "events": 0,
                    "refusals": tally.count,
                    "first_seen": tally.first_at,
                    "last_seen": tally.last_at,
                    "look_alike": mixed_scripts(actor),
                }
            else:
                rows[actor] = {
                    **row,
                    "refusals": tally.count,
                    "first_seen": min(row["first_seen"], tally.first_at),
                    "last_seen": max(row["last_seen"], tally.last_at),
                }
        return ProjectionState(rows=rows, aux=state.aux)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """An actor acts on any stream: no fast path."""
        return None
