"""`eventscope blame PROJECTION KEY FIELD`: the events that changed one field of a row."""

from __future__ import annotations

import argparse

from domain.errors import InvalidInput
from domain.text import escape
from domain.timeline.blame import blame_of_steps
from tui.cli.commands import _dump, workspace
from tui.services.blame import blame_lines, column_of


def blame(args: argparse.Namespace) -> int:
    """`blame PROJECTION KEY FIELD [--from A] [--to B] [--json]`."""
    with workspace(args) as ws:
        projection = ws.domain.projection(args.projection)
        column = column_of(projection, args.field)
        head = ws.store.head().position
        since = args.since or 0
        to = head if args.to is None else args.to
        for flag, value in (("--from", since), ("--to", to)):
            if value > head:
                raise InvalidInput(f"{flag} {value} is beyond the head (#{head}); use 0..{head}")
        if since > to:
            raise InvalidInput(f"--from #{since} is after --to #{to}; give the earlier first")
        steps = ws.timeline.lineage_steps(projection.name, args.key, to=to)
        if not steps:
            raise InvalidInput(
                f"no row {args.key!r} in {projection.name} up to #{to}; "
                f"`eventscope state --projection {projection.name}` lists the rows"
            )
        entries = blame_of_steps(steps, column.name, since=since)
        lines = blame_lines(projection, column.name, entries)
        if args.json:
            _dump(
                [
                    {
                        "position": e.event.position,
                        "recorded_at": e.event.recorded_at,
                        "actor": e.event.actor,
                        "command_type": e.event.metadata.get("command_type"),
                        "type": e.event.type,
                        "before": e.before,
                        "after": e.after,
                    }
                    for e in entries
                ]
            )
            return 0
        window = f"#{since:,}..#{to:,}" if since else f"up to #{to:,}"
        print(
            f"{escape(projection.title)} · {escape(projection.key_title)} {escape(args.key)}"
            f" · {escape(column.title)}: {len(lines)} change(s) {window}"
        )
        for line in lines:
            # Every part is escaped already (`tui.services.blame`).
            print(
                f"  #{line.position:<8,} {line.time}  {line.actor}  "
                f"{line.command or line.event_type}  {line.before} → {line.after}"
            )
    return 0
