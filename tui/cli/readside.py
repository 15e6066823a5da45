"""The read-side commands: state, diff, rebuild, project, demo, simulate."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from datetime import datetime
from typing import Any

import orjson

from domain.cells import position_label
from domain.clock import parse_time
from domain.errors import InvalidInput
from domain.projection import Projection, StateMap
from domain.text import escape
from domain.timeline import Diff
from tui.bootstrap import Workspace
from tui.cli.commands import _dump, _option, workspace
from tui.cli.output import say
from tui.cli.pacing import CtrlCStops
from tui.cli.progress import ProgressBar
from tui.themes import DEFAULT_THEME


def _position_arg(ws: Workspace, value: int, flag: str) -> int:
    head = ws.store.head().position
    if value < 0:
        raise InvalidInput(f"{flag} must be 0 or more, not {value}")
    if value > head:
        raise InvalidInput(f"{flag} {value} is beyond the head (#{head}); use 0..{head}")
    return value


def _time_arg(ws: Workspace, text: str) -> int:
    try:
        moment = parse_time(text)
    except ValueError as exc:
        raise InvalidInput(f"--at-time: {exc}") from None
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise InvalidInput(
            f"--at-time: {text!r} is out of range once converted to UTC "
            "(years 0001 to 9999); use e.g. 2026-03-01T14:02:00Z"
        ) from None
    # Zero-padded (`0001-...`) for every year, as the stored times are.
    return ws.store.position_at(moment.isoformat(timespec="microseconds")[:-6] + "Z")


def _chosen(ws: Workspace, name: str | None) -> list[Projection]:
    if name is None:
        return list(ws.domain.projections)
    return [ws.domain.projection(name)]


def _print_table(projection: Projection, rows: dict[str, dict[str, Any]]) -> None:
    columns = list(projection.columns)
    cells = [[c.title for c in columns]]
    for key in sorted(rows):
        cells.append([c.format(rows[key]) for c in columns])
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    print(f"{projection.title} ({len(rows)} rows)")
    for n, row in enumerate(cells):
        line = "  ".join(
            text.rjust(w) if columns[i].numeric and n else text.ljust(w)
            for i, (text, w) in enumerate(zip(row, widths, strict=True))
        )
        print("  " + line.rstrip())
    print()


def state(args: argparse.Namespace) -> int:
    """`state [--at P | --at-time ISO] [--projection NAME] [--json]`."""
    with workspace(args) as ws:
        chosen = _chosen(ws, args.projection)
        if args.at is not None and args.at_time is not None:
            raise InvalidInput("give --at or --at-time, not both")
        if args.at is not None:
            position = _position_arg(ws, args.at, "--at")
        elif args.at_time is not None:
            position = _time_arg(ws, args.at_time)
        else:
            position = ws.store.head().position
        states: StateMap = ws.timeline.state_at(position)
        if args.json:
            if args.projection is not None:
                _dump(states[chosen[0].name].rows)
            else:
                _dump({p.name: states[p.name].rows for p in chosen})
            return 0
        print(f"state at {position_label(position)}\n")
        for projection in chosen:
            _print_table(projection, states[projection.name].rows)
    return 0


def _print_diff(diff: Diff, chosen: list[Projection]) -> None:
    """Each change as a line, with values formatted by the projection's own columns."""
    print(f"changes from {position_label(diff.a)} to {position_label(diff.b)}")
    for projection in chosen:
        part = diff.projections[projection.name]
        if part.empty:
            continue
        columns = {c.name: c for c in projection.columns}
        print(f"\n{projection.title}")
        for key in sorted(part.added):
            say(f"  + {key}")
        for key in sorted(part.removed):
            say(f"  - {key}")
        for key in sorted(part.changed):
            shown = [
                f"{columns[name].title}: {columns[name].format(part.rows[key][0])} → "
                f"{columns[name].format(part.rows[key][1])}"
                for name in part.changed[key]
                if name in columns
            ]
            if shown:
                # Cells are escaped by `Column.format`; the key is escaped here.
                print(f"  ~ {escape(key)}  " + "; ".join(shown))
    if diff.empty:
        print("no differences")


def diff(args: argparse.Namespace) -> int:
    """`diff A B [--projection NAME] [--json]`."""
    with workspace(args) as ws:
        chosen = _chosen(ws, args.projection)
        a = _position_arg(ws, args.a, "A")
        b = _position_arg(ws, args.b, "B")
        if a > b:
            raise InvalidInput(f"A (#{a}) is after B (#{b}); give the earlier position first")
        result = ws.timeline.diff(a, b, names=[p.name for p in chosen])
        if args.json:
            _dump(result.to_json_dict())
        else:
            _print_diff(result, chosen)
    return 0


def rebuild(args: argparse.Namespace) -> int:
    """`rebuild`: read models from zero (swapped in when done), then snapshots from zero;
    with `--projection NAME`, only those read models."""
    only: list[str] = list(getattr(args, "projection", None) or [])
    with workspace(args, writing=True) as ws:
        projector = ws.projector()
        try:
            for name in only:
                projector.projection(name)  # an unknown name is refused before any work
            bar = ProgressBar("rebuilding " + (", ".join(only) if only else "read models"))
            status = projector.rebuild(progress=bar, only=only)
            bar.finish(f"at #{status.checkpoint}")
        finally:
            projector.close()
        if not only:
            timeline = ws.timeline
            timeline.snapshots.discard()  # from zero: a forged snapshot must not survive
            timeline.drop_caches()
            bar = ProgressBar("writing snapshots")
            written = timeline.build_snapshots(progress=bar)
            bar.finish(f"{written} new snapshots")
        ws.release_wal()  # a rebuild writes far more than normal use: give the WAL back
    return 0


def project(args: argparse.Namespace) -> int:
    """`project [--follow]`: bring the read models up to the head (and keep them there)."""
    if not 0 < args.interval <= 3600:  # time.sleep(1e300) overflows; <= 0 spins
        raise InvalidInput(
            f"--interval must be more than 0 and at most 3600 s, not {args.interval}"
        )
    with workspace(args, writing=True) as ws:
        projector = ws.projector()
        try:
            if not args.follow:
                status = projector.catch_up()
                say(status.describe())
                return 0
            last = ""

            def show(status: Any) -> None:
                nonlocal last
                line = status.describe()
                if line != last:
                    say(line, flush=True)
                    last = line

            try:
                projector.follow(args.interval, on_status=show)
            except KeyboardInterrupt:
                print("stopped", file=sys.stderr)
        finally:
            projector.close()
    return 0


def demo(args: argparse.Namespace) -> int:
    """`demo`: write a deterministic demo history into an empty database, then open the app."""
    if args.events < 1:
        raise InvalidInput(f"--events must be at least 1, not {args.events}")
    with workspace(args, create=True, writing=True) as ws:
        generate = ws.domain.demo
        if generate is None:
            raise InvalidInput(f"the {ws.domain.name} domain has no demo data")
        head = ws.store.head().position
        if head:
            print(
                f"{ws.location} already holds {head:,} event{'s' if head != 1 else ''}: "
                "opening it as it is (demo data is written only into an empty database; "
                "pick another --db)",
                file=sys.stderr,
            )
        else:
            end = _demo_end(args.end, ws.clock.now())
            from tui.cli.demo_feed import history_in_child

            # Generated in a child process: generating and loading use two cores.
            bar = ProgressBar("writing demo events")
            with closing(history_in_child(generate, args.events, args.seed, end)) as history:
                loaded = ws.store.append_bulk(_counted(history, bar, args.events))
            bar.finish(f"{loaded.position:,} events, seed {args.seed}")
            bar = ProgressBar("writing snapshots")
            written = ws.timeline.build_snapshots(progress=bar)
            bar.finish(f"{written} snapshots")
            projector = ws.projector()
            try:
                bar = ProgressBar("projecting read models")
                status = projector.catch_up(progress=bar)
                bar.finish(f"at #{status.checkpoint}")
            finally:
                projector.close()
            ws.release_wal()  # what the snapshots and read models left (the load's: gone)
        if args.no_open:
            return 0
        from tui.app import run_app  # on this workspace: `--db memory:` has no other

        return run_app(ws, theme=_option(args, "theme", DEFAULT_THEME))


def _demo_end(text: str | None, now: str) -> datetime:
    """When the demo history ends: `--end`, else now; never after now (live writes
    must come after it)."""
    present = parse_time(now)
    if text is None:
        return present
    try:
        end = parse_time(text)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"--end: {exc}") from None
    if end > present:
        raise InvalidInput(
            f"--end {text} is in the future; give a time up to now ({now[:19]}Z), "
            "so that new events come after the demo history"
        )
    return end


def _counted(items: Any, bar: ProgressBar, total: int) -> Any:
    from domain.envelope import PendingEvent

    done = 0
    for item in items:
        yield item
        if type(item) is PendingEvent:
            done += 1
            if done % 5000 == 0:
                bar(done, total)
    bar(done, done)


def simulate(args: argparse.Namespace) -> int:
    """`simulate`: live traffic through the real command bus, from this process."""
    if args.rate <= 0:
        raise InvalidInput(f"--rate must be more than 0, not {args.rate}")
    if args.duration is not None and args.duration < 0:
        raise InvalidInput(f"--duration must be 0 or more seconds, not {args.duration}")
    with workspace(args, writing=True) as ws:
        run = ws.domain.simulate
        if run is None:
            raise InvalidInput(f"the {ws.domain.name} domain has no simulation")

        def show(step: Any) -> None:
            if args.quiet:
                return
            if args.json:
                sys.stdout.write(orjson.dumps(step.to_json_dict()).decode() + "\n")
            else:
                where = ""
                if step.result is not None and step.result.positions:
                    where = f"#{step.result.positions[-1]}"
                say(
                    f"{where:>9} {step.outcome:<8} {step.actor:<16} "
                    f"{step.command.type_name:<18} {step.detail}"[:160]
                )
            sys.stdout.flush()

        with CtrlCStops() as ctrl_c:
            stats = run(
                ws.bus, ws.store, args.rate, args.duration, _option(args, "seed", 1),
                ctrl_c.pace, monotonic=ctrl_c.monotonic, on_result=show, stop=ctrl_c.stopped,
            )  # fmt: skip
        print(
            f"simulated {stats.commands} commands: {stats.ok} ok, {stats.refused} refused, "
            f"{stats.conflicts} conflicts, {stats.invalid} invalid; {stats.events} events",
            file=sys.stderr,
        )
    return 0
